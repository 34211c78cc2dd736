/**
 * DM consent end to end: a stranger's /msg is refused with a clear error
 * and a hint; after /allow-dm it goes through; roommates need nothing.
 */
import { assertMatch } from "../shared/_test_assert.ts";
import { ClientProcess, ServerProcess } from "./_harness.ts";

Deno.test("a stranger's /msg is refused until the recipient types /allow-dm", async () => {
  await using server = await ServerProcess.start();
  await using alice = await ClientProcess.ready(server, "alice");
  await using mallory = await ClientProcess.ready(server, "mallory", {
    room: "elsewhere",
  });
  await mallory.send("/msg alice hello stranger");
  const refused = await mallory.waitFor(
    (e) => e.type === "error" && /allowed DMs/.test(String(e.message)),
    "the refusal",
  );
  assertMatch(String(refused.message), /shares no room with you/);
  assertMatch(String(refused.message), /\/allow-dm/);

  await alice.send("/allow-dm mallory");
  await alice.waitFor(
    (e) => /mallory may now open a DM with you/.test(String(e.message)),
    "the server's notice",
  );
  await mallory.send("/msg alice hello again");
  await alice.waitFor(
    (e) => e.type === "message" && e.text === "hello again",
    "mallory's DM",
  );
});

Deno.test("people in the same room may DM each other without /allow-dm", async () => {
  await using server = await ServerProcess.start();
  await using alice = await ClientProcess.ready(server, "alice");
  await using bob = await ClientProcess.ready(server, "bob");
  await bob.send("/msg alice hi from #general");
  await alice.waitFor(
    (e) => e.type === "message" && e.text === "hi from #general",
    "bob's DM",
  );
});
