/**
 * Moderation end to end with real clients: operators (named by key
 * fingerprint) kick, ban (persisted), mute and set the motd; invite-only
 * admits allowed keys; everyone can /ignore locally.
 */
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import {
  ClientProcess,
  disposableList,
  runChat,
  ServerProcess,
  tempDir,
} from "./_harness.ts";

/** Create `user`'s keys in `home` and return the fingerprint `chat id` prints. */
async function fingerprintOf(user: string, home: string): Promise<string> {
  const out = await runChat(["id", "--user", user, "--create"], {
    env: { XDG_CONFIG_HOME: home },
  });
  assertEquals(out.code, 0, out.stderr);
  return out.stdout.trim().slice(user.length + 1);
}

function sawSystem(client: ClientProcess, pattern: RegExp) {
  return client.waitFor(
    (e) => e.type === "system" && pattern.test(String(e.message)),
    String(pattern),
  );
}

function sawError(client: ClientProcess, pattern: RegExp) {
  return client.waitFor(
    (e) => e.type === "error" && pattern.test(String(e.message)),
    String(pattern),
  );
}

Deno.test("operators kick, mute and set the motd; a non-operator's moderation is refused", async () => {
  await using temp = await tempDir("chat-mod-");
  const dir = temp.path;
  const aliceHome = join(dir, "home-alice");
  const op = await fingerprintOf("alice", aliceHome);
  await using server = await ServerProcess.start({ dir, args: ["--op", op] });
  await using alice = await ClientProcess.ready(server, "alice", {
    configHome: aliceHome,
  });
  await using bob = await ClientProcess.ready(server, "bob");
  await using carol = await ClientProcess.ready(server, "carol");
  await alice.waitFor(
    (e) => e.type === "join" && e.user === "carol",
    "carol joining",
  );

  await bob.send("/kick carol");
  await sawError(bob, /only operators can kick/);
  await bob.send("/ban alice");
  await sawError(bob, /only operators can ban/);

  await alice.send("/motd Welcome, be kind");
  await sawSystem(bob, /message of the day: Welcome, be kind/);

  await alice.send("/mute bob 1h");
  await sawSystem(alice, /^server: muted bob until /);
  await sawSystem(bob, /you were muted by alice/);
  await bob.send("while muted");
  await sawError(bob, /you are muted until .*NOT sent/);
  await alice.send("/unmute bob");
  await sawSystem(alice, /unmuted bob/);
  await bob.say("free again");
  await carol.waitFor(
    (e) => e.text === "free again",
    "bob's message after the mute",
  );
  assertEquals(
    carol.events.items.some((e) => e.text === "while muted"),
    false,
  );

  await alice.send("/kick carol spamming");
  await sawError(carol, /you were kicked by alice: spamming/);
  assertEquals(await carol.end(), 1);
  assertIncludes(
    carol.stderr.items.join("\n") + JSON.stringify(carol.events.items),
    "kicked by alice: spamming",
  );
  await sawSystem(bob, /carol was kicked by alice: spamming/);

  // a kick is not a ban: carol comes back, and is greeted with the motd
  await using carolAgain = await ClientProcess.ready(server, "carol", {
    configHome: carol.configHome,
  });
  await sawSystem(carolAgain, /message of the day: Welcome, be kind/);
  for (const c of [alice, carolAgain]) assertEquals(await c.end(), 0);
  // bob's message while muted was refused: his exit code says so
  assertEquals(await bob.end(), 1);
  assertIncludes(
    bob.stderr.items.join("\n"),
    "1 message(s) were not delivered (1 refused",
  );
});

Deno.test("a ban is by key, survives a server restart, and /unban lets the user back", async () => {
  await using temp = await tempDir("chat-ban-");
  const dir = temp.path;
  const aliceHome = join(dir, "home-alice");
  const op = await fingerprintOf("alice", aliceHome);
  await using server = await ServerProcess.start({ dir, args: ["--op", op] });
  await using alice = await ClientProcess.ready(server, "alice", {
    configHome: aliceHome,
  });
  await using bob = await ClientProcess.ready(server, "bob");
  await alice.send("/ban bob 2h flooding");
  await sawSystem(alice, /banned bob until/);
  await sawError(bob, /you were banned by alice/);
  // the ban ends bob's memberships: the roster changes, keys rotate
  await alice.waitFor(
    (e) => e.type === "leave" && e.user === "bob",
    "bob leaving general",
  );
  assertEquals(await bob.end(), 1);
  assertIncludes(
    bob.stderr.items.join("\n") + JSON.stringify(bob.events.items),
    "banned by alice",
  );

  assertEquals(await alice.end(), 0);
  await server.stop();
  await using restarted = await ServerProcess.start({
    dir,
    port: server.port,
    args: ["--op", op],
  });
  await using refused = ClientProcess.start(restarted, "bob", {
    configHome: bob.configHome,
  });
  assertEquals(await refused.end(), 1);
  assertIncludes(
    refused.stderr.items.join("\n"),
    "you are banned from this server until",
  );
  assertIncludes(refused.stderr.items.join("\n"), "flooding");

  // the same keys under another name are banned too
  const keys = JSON.parse(
    await Deno.readTextFile(join(bob.configHome, "chat", "keys", "bob.json")),
  );
  const otherHome = join(dir, "home-robert");
  await Deno.mkdir(join(otherHome, "chat", "keys"), {
    recursive: true,
    mode: 0o700,
  });
  const robertKeys = join(otherHome, "chat", "keys", "robert.json");
  await Deno.writeTextFile(
    robertKeys,
    JSON.stringify({ ...keys, user: "robert" }),
    {
      mode: 0o600,
    },
  );
  await using robert = ClientProcess.start(restarted, "robert", {
    configHome: otherHome,
  });
  assertEquals(await robert.end(), 1);
  assertIncludes(
    robert.stderr.items.join("\n"),
    "you are banned from this server",
  );

  await using alice2 = await ClientProcess.ready(restarted, "alice", {
    configHome: aliceHome,
  });
  await alice2.send("/unban bob");
  await sawSystem(alice2, /unbanned bob/);
  await using back = await ClientProcess.ready(restarted, "bob", {
    configHome: bob.configHome,
  });
  await back.say("back again");
  await alice2.waitFor((e) => e.text === "back again", "bob after the unban");
  for (const c of [alice2, back]) assertEquals(await c.end(), 0);
});

Deno.test("an invite-only server admits operators and allowed keys only, and registers no refused name", async () => {
  await using temp = await tempDir("chat-invite-");
  const dir = temp.path;
  const aliceHome = join(dir, "home-alice");
  const op = await fingerprintOf("alice", aliceHome);
  await using server = await ServerProcess.start({
    dir,
    args: ["--invite-only", "--op", op],
  });
  await using alice = await ClientProcess.ready(server, "alice", {
    configHome: aliceHome,
  });
  const daveHome = join(dir, "home-dave");
  await using dave = ClientProcess.start(server, "dave", {
    configHome: daveHome,
  });
  assertEquals(await dave.end(), 1);
  const refusal = dave.stderr.items.join("\n");
  assertIncludes(refusal, "invite-only");
  const hex = /fingerprint ([0-9a-f]{64})/.exec(refusal)?.[1];
  assert(hex, refusal);
  assertEquals(
    hex,
    (await fingerprintOf("dave", daveHome)).replaceAll(" ", ""),
  );
  // the refused key did not register the name: another allowed key could take it
  assert(!server.log.includes("dave logged in"));

  await alice.send(`/allow ${hex}`);
  await sawSystem(alice, new RegExp(`allowed key ${hex}`));
  await using daveAgain = await ClientProcess.ready(server, "dave", {
    configHome: daveHome,
  });
  await daveAgain.say("thanks for the invite");
  await alice.waitFor(
    (e) => e.text === "thanks for the invite",
    "dave's message",
  );
  for (const c of [alice, daveAgain]) assertEquals(await c.end(), 0);
});

Deno.test("/ignore hides a user's messages for one user only, persistently, until /unignore", async () => {
  await using server = await ServerProcess.start();
  await using clients = disposableList<ClientProcess>();
  const alice = await ClientProcess.ready(server, "alice");
  clients.push(alice);
  let bob = await ClientProcess.ready(server, "bob");
  clients.push(bob);
  const carol = await ClientProcess.ready(server, "carol");
  clients.push(carol);
  await bob.waitFor(
    (e) => e.type === "join" && e.user === "carol",
    "carol joining",
  );
  await bob.send("/ignore carol");
  await sawSystem(bob, /ignoring carol/);
  await carol.say("you cannot hear me");
  await alice.waitFor(
    (e) => e.text === "you cannot hear me",
    "alice hears carol",
  );
  await alice.say("barrier 1");
  await bob.waitFor((e) => e.text === "barrier 1", "barrier");
  assertEquals(
    bob.events.items.some((e) => e.text === "you cannot hear me"),
    false,
  );

  // persisted: a new bob process still ignores carol
  assertEquals(await bob.end(), 0);
  bob = await ClientProcess.ready(server, "bob", {
    configHome: bob.configHome,
  });
  clients.push(bob);
  await bob.send("/ignore");
  await sawSystem(bob, /^ignoring: carol$/);
  await bob.send("/unignore carol");
  await sawSystem(bob, /no longer ignoring carol/);
  await carol.say("now you can");
  await bob.waitFor((e) => e.text === "now you can", "carol after /unignore");
  for (const c of [alice, bob, carol]) assertEquals(await c.end(), 0);
});
