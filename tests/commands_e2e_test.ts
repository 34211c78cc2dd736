/**
 * Commands end to end (issue 11): a real server, real `chat join` clients
 * over real TLS. JSON mode answers /rooms, /who, /whois with structured
 * events; scripts get answers before they exit; the IRC habits /part,
 * /query, /names, /list, /clear and /topic work; line mode renders the
 * answers as readable text.
 */
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
  assertMatch,
} from "../shared/_test_assert.ts";
import {
  type ClientEvent,
  ClientProcess,
  disposableList,
  runChat,
  ServerProcess,
} from "./_harness.ts";

/** A server and its clients, stopped and removed when the test's scope ends. */
class Scene implements AsyncDisposable {
  readonly clients = disposableList<ClientProcess>();
  private constructor(readonly server: ServerProcess) {}

  static async start(): Promise<Scene> {
    return new Scene(await ServerProcess.start());
  }

  /** Start `users` in #general, each seeing every later one join. */
  async members(...users: string[]): Promise<ClientProcess[]> {
    return await ClientProcess.members(this.server, users, this.clients);
  }

  /** Run `chat join --user USER` as a script: `stdin` is its whole input. */
  script(user: string, stdin: string, json = true) {
    return runChat([
      "join",
      ...(json ? ["--json"] : []),
      "--user",
      user,
      "--server",
      this.server.address,
      "--ca",
      this.server.caPath,
    ], {
      stdin,
      env: { XDG_CONFIG_HOME: join(this.server.dir, `home-${user}`) },
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.clients[Symbol.asyncDispose]();
    await this.server[Symbol.asyncDispose]();
  }
}

function parseLines(stdout: string): ClientEvent[] {
  return stdout.trim().split("\n").map((line) => JSON.parse(line));
}

/** Wait for a system message matching `pattern`. */
function system(client: ClientProcess, pattern: RegExp): Promise<ClientEvent> {
  return client.waitFor(
    (e) => e.type === "system" && pattern.test(String(e.message)),
    `system message ${pattern}`,
  );
}

Deno.test("a script's /rooms and /motd are answered before it exits", async () => {
  await using scene = await Scene.start();
  const { code, stdout, stderr } = await scene.script(
    "dave",
    "/rooms\n/motd\n",
  );
  assertEquals(code, 0, stderr);
  const events = parseLines(stdout);
  const rooms = events.find((e) => e.type === "rooms");
  assertEquals(rooms?.rooms, [
    { room: "general", members: 1, joined: true, current: true },
  ], stdout);
  assert(
    events.some((e) =>
      e.type === "system" &&
      e.message === "server: there is no message of the day"
    ),
    stdout,
  );
  assertEquals(events.filter((e) => e.type === "error"), []);
});

Deno.test("/rooms and /list answer with a rooms event: members, joined, current", async () => {
  await using scene = await Scene.start();
  const [alice, bob] = await scene.members("alice", "bob") as [
    ClientProcess,
    ClientProcess,
  ];
  await alice.send("/join #ops");
  await system(alice, /^now talking in #ops/);
  await alice.send("/list");
  const listed = await alice.waitFor((e) => e.type === "rooms", "/list");
  assertEquals(listed.rooms, [
    { room: "general", members: 2, joined: true, current: false },
    { room: "ops", members: 1, joined: true, current: true },
  ]);
  await bob.send("/rooms");
  const seen = await bob.waitFor((e) => e.type === "rooms", "/rooms");
  assertEquals(seen.rooms, [
    { room: "general", members: 2, joined: true, current: true },
    { room: "ops", members: 1, joined: false, current: false },
  ]);
  for (const c of scene.clients) assertEquals(await c.end(), 0);
});

Deno.test("/who, /names and /whois answer with structured events whose trust follows /verify", async () => {
  await using scene = await Scene.start();
  const [alice, bob] = await scene.members("alice", "bob") as [
    ClientProcess,
    ClientProcess,
  ];
  await alice.send("/names");
  const before = await alice.waitFor((e) => e.type === "who", "/names");
  assertEquals(before.room, "general");
  const members = before.members as Record<string, unknown>[];
  assertEquals(members.map((m) => [m.user, m.online, m.trust, m.you]), [
    ["alice", true, "unverified", true],
    ["bob", true, "unverified", false],
  ]);
  for (const m of members) {
    assertMatch(String(m.fingerprint), /^([0-9a-f]{4} ){3}[0-9a-f]{4}$/);
  }

  await alice.send("/whois bob");
  const aliceView = await alice.waitFor((e) => e.type === "whois", "whois");
  await bob.send("/whois alice");
  const bobView = await bob.waitFor((e) => e.type === "whois", "whois");
  assertEquals(aliceView.user, "bob");
  assertEquals(aliceView.trust, "unverified");
  assertEquals(aliceView.you, false);
  assertMatch(String(aliceView.safetyNumber), /^(\d{5} ){11}\d{5}$/);
  assertMatch(String(aliceView.fingerprint), /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
  assertEquals(bobView.safetyNumber, aliceView.safetyNumber);
  assert(
    String(aliceView.fingerprint).startsWith(String(members[1]!.fingerprint)),
    "/who shows the start of the /whois fingerprint",
  );

  await alice.send(`/verify bob ${aliceView.safetyNumber}`);
  await system(alice, /^bob is now verified$/);
  await alice.send("/who");
  const after = await alice.waitFor(
    (e) => e.type === "who" && e !== before,
    "/who after /verify",
  );
  assertEquals(
    (after.members as Record<string, unknown>[]).map((m) => m.trust),
    ["unverified", "verified"],
  );
  await alice.send("/whois bob");
  await alice.waitFor(
    (e) => e.type === "whois" && e.trust === "verified" && e.user === "bob",
    "whois verified",
  );
  await alice.send("/whois alice");
  await alice.waitFor(
    (e) => e.type === "whois" && e.you === true && e.user === "alice",
    "whois of yourself",
  );
  for (const c of scene.clients) assertEquals(await c.end(), 0);
});

Deno.test("/part leaves a room like /leave", async () => {
  await using scene = await Scene.start();
  const [alice, bob] = await scene.members("alice", "bob") as [
    ClientProcess,
    ClientProcess,
  ];
  await bob.send("/join #ops");
  await system(bob, /^now talking in #ops/);
  await alice.send("/join #ops");
  await bob.waitFor(
    (e) => e.type === "join" && e.user === "alice" && e.room === "ops",
    "alice joining ops",
  );
  await alice.send("/part #ops");
  await bob.waitFor(
    (e) => e.type === "leave" && e.user === "alice" && e.room === "ops",
    "alice leaving ops",
  );
  await alice.send("/rooms");
  const rooms = await alice.waitFor((e) => e.type === "rooms", "/rooms");
  assertEquals(
    (rooms.rooms as { room: string; joined: boolean }[])
      .find((r) => r.room === "ops")?.joined,
    false,
  );
  for (const c of scene.clients) assertEquals(await c.end(), 0);
});

Deno.test("/query opens the DM, switches to it and sends; plain text then goes there", async () => {
  await using scene = await Scene.start();
  const [alice, bob] = await scene.members("alice", "bob") as [
    ClientProcess,
    ClientProcess,
  ];
  await alice.send("/query bob hi bob");
  await system(alice, /^now talking in dm bob$/);
  const first = await bob.waitFor(
    (e) => e.text === "hi bob",
    "the /query text",
  );
  assertEquals(first.room, "dm:alice:bob");
  await alice.say("and this too", "dm:alice:bob");
  const second = await bob.waitFor(
    (e) => e.text === "and this too",
    "plain text after /query",
  );
  assertEquals(second.room, "dm:alice:bob");
  await alice.send("/query nobody");
  await alice.waitFor(
    (e) => e.type === "error" && /nobody|no such user/.test(String(e.message)),
    "an error for an unknown user",
  );
  for (const c of scene.clients) assertEquals(await c.end(), 0);
});

Deno.test("/topic sets a topic members receive as an encrypted topic message, and /topic shows it", async () => {
  await using scene = await Scene.start();
  const [alice, bob] = await scene.members("alice", "bob") as [
    ClientProcess,
    ClientProcess,
  ];
  await bob.send("/topic");
  await system(bob, /^no topic set in #general$/);
  await alice.send("/topic Release on Friday");
  const own = await alice.waitFor(
    (e) => e.type === "message" && e.own === true && e.kind === "topic",
    "alice's topic acknowledged",
  );
  assertEquals(own.text, "Release on Friday");
  const got = await bob.waitFor(
    (e) => e.type === "message" && e.kind === "topic",
    "the topic reaching bob",
  );
  assertEquals([got.from, got.room, got.text], [
    "alice",
    "general",
    "Release on Friday",
  ]);
  await bob.send("/topic");
  const shown = await system(bob, /^topic of #general: /);
  assertMatch(
    String(shown.message),
    /^topic of #general: Release on Friday \(set by alice, \d{4}-\d\d-\d\d \d\d:\d\d\)$/,
  );
  for (const c of scene.clients) assertEquals(await c.end(), 0);
});

Deno.test("/clear is accepted and prints nothing in JSON mode", async () => {
  await using scene = await Scene.start();
  const { code, stdout, stderr } = await scene.script(
    "dave",
    "/clear\n/list\n",
  );
  assertEquals(code, 0, stderr);
  const events = parseLines(stdout);
  assertEquals(events.map((e) => e.type).filter((t) => t !== "history"), [
    "ready",
    "rooms",
  ]);
});

Deno.test("line mode shows /rooms, /who, /whois and /topic as readable text", async () => {
  await using scene = await Scene.start();
  const { code, stdout, stderr } = await scene.script(
    "dave",
    "/rooms\n/who\n/whois dave\n/topic\n",
    false,
  );
  assertEquals(code, 0, stderr);
  assert(!stdout.includes("{"), `no JSON in line mode:\n${stdout}`);
  assertIncludes(
    stdout,
    "* 1 room:\n*   #general  1 member  joined, current\n",
  );
  assertMatch(
    stdout,
    /\* 1 member in #general:\n\* {3}dave +([0-9a-f]{4} ){3}[0-9a-f]{4} +online +\(you\)\n/,
  );
  assertMatch(stdout, /\* dave\n\* {3}fingerprint {4}([0-9a-f]{4} ){15}/);
  assertIncludes(stdout, "*   (this is you)\n");
  assertIncludes(stdout, "* no topic set in #general\n");
});
