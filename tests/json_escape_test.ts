/**
 * End-to-end: `chat join --json` keeps message text exact, `--json --escape`
 * turns control, bidi and zero-width characters into `\uXXXX` text.
 */
import { assertEquals, assertIncludes } from "../shared/_test_assert.ts";
import { ClientProcess, runChat, ServerProcess } from "./_harness.ts";

Deno.test("join --json --escape prints C1, bidi and zero-width characters as \\u escapes", async () => {
  await using server = await ServerProcess.start();
  await using alice = ClientProcess.start(server, "alice", {
    args: ["--escape"],
  });
  await alice.waitFor((e) => e.type === "ready", "ready");
  await using bob = await ClientProcess.ready(server, "bob");
  await alice.waitFor((e) => e.type === "join" && e.user === "bob", "bob");
  const tricky = "pay \u202eevil\u202c to\u200b me\u0085 now\u2066!";
  await bob.say(tricky);
  const seen = await alice.waitFor(
    (e) => e.type === "message" && e.from === "bob",
    "bob's message",
  );
  assertEquals(
    seen.text,
    "pay \\u202eevil\\u202c to\\u200b me\\u0085 now\\u2066!",
  );
  // without --escape the text stays exact
  await alice.say("back");
  const back = await bob.waitFor(
    (e) => e.type === "message" && e.from === "alice",
    "alice's message",
  );
  assertEquals(back.text, "back");
  assertEquals(bob.events.items.some((e) => e.text === tricky), true);
});

Deno.test("join --escape without --json is a usage error", async () => {
  const result = await runChat(["join", "--user", "alice", "--escape"]);
  assertEquals(result.code, 2);
  assertIncludes(result.stderr, "--escape only applies to --json output");
});
