/**
 * Invites and saved servers, end to end: `chat invite` next to the server,
 * `chat join --invite CODE` with no --server and no --ca, single use,
 * expiry, invite-only admission, and `chat join --user NAME` alone afterwards.
 */
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import { ClientProcess, runChat, ServerProcess, tempDir } from "./_harness.ts";

/** Run `chat invite` next to `server`; return the code from the printed line. */
async function invite(
  server: ServerProcess,
  ...args: string[]
): Promise<string> {
  const out = await runChat([
    "invite",
    "--data",
    server.dataDir,
    "--certs",
    server.certsDir,
    ...args,
  ]);
  assertEquals(out.code, 0, out.stderr);
  // the command before "join" is how chat was started (server/join_line.ts)
  const match = /^\S.* join --invite (chat1:[A-Za-z0-9_-]+) --user NAME$/
    .exec(out.stdout.trim());
  assert(match, `one join line expected, got: ${out.stdout}`);
  return match[1]!;
}

Deno.test("an invite lets a new user join with no --server and no --ca, once; an expired one is refused", async () => {
  await using server = await ServerProcess.start({ args: ["--invite-only"] });
  const code = await invite(server);
  await using bob = ClientProcess.start(server, "bob", {
    noServerFlags: true,
    args: ["--invite", code],
  });
  await bob.waitFor((e) => e.type === "ready", "bob joining by invite");
  const carolCode = await invite(server, "--uses", "1");
  await using carol = ClientProcess.start(server, "carol", {
    noServerFlags: true,
    args: ["--invite", carolCode],
  });
  await carol.waitFor((e) => e.type === "ready", "carol joining by invite");
  await bob.waitFor(
    (e) => e.type === "join" && e.user === "carol",
    "carol's join",
  );
  await bob.say("invited and talking");
  await carol.waitFor(
    (e) => e.text === "invited and talking",
    "bob's message",
  );

  // the same code again, by someone else: refused
  await using mallory = ClientProcess.start(server, "mallory", {
    noServerFlags: true,
    args: ["--invite", code],
  });
  assertEquals(await mallory.end(), 1);
  const refusal = mallory.stderr.items.join("\n");
  assertIncludes(refusal, "this invite code was already used");
  // the hint fits the refusal, and the refused name kept no keys
  assertIncludes(
    refusal,
    "chat: hint: an invite works a set number of times until it expires: ask for a new one; if you already joined with it, leave out --invite: chat join --user mallory",
  );
  assert(!refusal.includes("check --server, --ca and --user"), refusal);
  assertEquals(
    [...Deno.readDirSync(join(mallory.configHome, "chat", "keys"))],
    [],
    "a refused first login leaves no key file",
  );

  // an invite that has expired before it is used
  const stale = await invite(server, "--expires", "1ms");
  await using late = ClientProcess.start(server, "late", {
    noServerFlags: true,
    args: ["--invite", stale],
  });
  assertEquals(await late.end(), 1);
  assertIncludes(
    late.stderr.items.join("\n"),
    "this invite code has expired",
  );

  // a damaged code is explained before anything is sent
  await using damaged = ClientProcess.start(server, "dave", {
    noServerFlags: true,
    args: ["--invite", "chat1:AAAA"],
  });
  assertEquals(await damaged.end(), 1);
  assertIncludes(
    damaged.stderr.items.join("\n"),
    "this invite code is not valid",
  );

  for (const c of [bob, carol]) assertEquals(await c.end(), 0);
});

Deno.test("after the first join, `chat join --user NAME` alone reconnects to the saved server, and `chat servers` lists it", async () => {
  await using server = await ServerProcess.start();
  const home = join(server.dir, "home-bob");
  const code = await invite(server);
  await using first = ClientProcess.start(server, "bob", {
    configHome: home,
    noServerFlags: true,
    args: ["--invite", code],
  });
  await first.waitFor((e) => e.type === "ready", "the first join");
  assertEquals(await first.end(), 0);
  const saved = join(home, "chat", "servers.json");
  assertEquals((await Deno.stat(saved)).mode! & 0o777, 0o600);

  await using again = ClientProcess.start(server, "bob", {
    configHome: home,
    noServerFlags: true,
  });
  await again.waitFor((e) => e.type === "ready", "joining with --user alone");
  await again.say("back without flags");
  assertEquals(await again.end(), 0);

  const listed = await runChat(["servers"], {
    env: { XDG_CONFIG_HOME: home },
  });
  assertEquals(listed.code, 0, listed.stderr);
  assert(
    new RegExp(
      `^127\\.0\\.0\\.1:${server.port}  CA [0-9A-F:]{23}…  last used \\S+  users: bob$`,
    )
      .test(listed.stdout.trim()),
    listed.stdout,
  );
});

Deno.test("chat invite without a running server's record says what to do", async () => {
  await using temp = await tempDir();
  const dir = temp.path;
  const out = await runChat(["invite", "--data", dir, "--certs", dir]);
  assertEquals(out.code, 1);
  assertIncludes(out.stderr, `no server has recorded its address in ${dir}`);
  assertIncludes(
    out.stderr,
    "chat: hint: start `chat serve` with this --data directory first",
  );
  const bad = await runChat(["invite", "--uses", "0"]);
  assertEquals(bad.code, 2);
  assertIncludes(bad.stderr, "--uses must be a whole number from 1 to 1000");
});
