/**
 * What a new user trips over in the first hour (issue 11), end to end with
 * a real server and real `chat join --json` clients over TLS: leaving and
 * rejoining a room, piping more lines than the server's burst, a script's
 * queries answered before it exits, late joiners told what they cannot
 * read, one presence line per person.
 */
import { assert, assertEquals } from "../shared/_test_assert.ts";
import {
  type ClientEvent,
  ClientProcess,
  runChat,
  ServerProcess,
} from "./_harness.ts";

/** The server's own message rate (10 at once, then 2 per second). */
const DEFAULT_RATE = ["--max-connections-per-ip", "1000"];

function errors(client: ClientProcess): ClientEvent[] {
  return client.events.items.filter((e) => e.type === "error");
}

function texts(events: ClientEvent[]): string[] {
  return events.filter((e) => e.type === "message").map((e) => String(e.text));
}

Deno.test("after /leave and /join in the same process, the room's history decrypts again, own messages included", async () => {
  await using server = await ServerProcess.start();
  await using alice = await ClientProcess.ready(server, "alice");
  await using bob = await ClientProcess.ready(server, "bob");
  await alice.waitFor((e) => e.type === "join" && e.user === "bob", "bob");
  const said = Array.from({ length: 6 }, (_, i) => `before ${i + 1}`);
  for (const [i, text] of said.entries()) {
    await (i % 2 ? bob : alice).say(text);
  }
  await alice.waitFor((e) => e.text === "before 6", "bob's last message");

  await alice.send("/leave");
  await alice.waitFor(
    (e) => e.type === "system" && /you left #general/.test(String(e.message)),
    "alice's leave",
  );
  const rejoinAt = alice.events.items.length;
  await alice.send("/join #general");
  const header = await alice.waitFor(
    (e) => e.type === "history" && e.reason === "join",
    "the history block of the rejoined room",
  );
  assertEquals([header.count, header.unreadable], [6, 0], "the block header");
  await alice.waitFor(
    (e) => e.type === "message" && e.history === true && e.text === "before 6",
    "the last message again, as history",
  );
  const after = alice.events.items.slice(rejoinAt);
  assertEquals(texts(after), said, "every message decrypted, in order");
  assertEquals(
    after.filter((e) => e.type === "message" && e.own).map((e) => e.text),
    ["before 1", "before 3", "before 5"],
    "alice's own messages among them",
  );
  assertEquals(errors(alice), [], "no 'cannot decrypt' or other error");

  await alice.send("/load 100");
  const load = await alice.waitFor(
    (e) => e.type === "history" && e.reason === "load",
    "the answer to /load",
  );
  assertEquals([load.count, load.unreadable], [0, 0], "nothing older exists");
  await bob.say("after the rejoin");
  await alice.waitFor((e) => e.text === "after the rejoin", "live again");
  assertEquals(errors(alice), []);
});

Deno.test("a script piping more lines than the server's burst gets every one delivered, in order, and exits 0", async () => {
  await using server = await ServerProcess.start({ limits: DEFAULT_RATE });
  await using bob = await ClientProcess.ready(server, "bob");
  await using bot = await ClientProcess.ready(server, "bot");
  await bob.waitFor((e) => e.type === "join" && e.user === "bot", "the bot");
  const lines = Array.from({ length: 15 }, (_, i) => `line ${i + 1}`);
  for (const line of lines) await bot.send(line);
  assertEquals(await bot.end(), 0, `the bot's exit code\n${bot.stderr.items}`);
  assertEquals(errors(bot), [], "the bot was never told to slow down");
  await bob.waitFor((e) => e.text === "line 15", "the last line");
  assertEquals(texts(bob.received()), lines, "what bob got, in order");
});

Deno.test("a script's queries are answered before it exits, and /load typed before history arrived waits for it", async () => {
  await using server = await ServerProcess.start();
  await using alice = await ClientProcess.ready(server, "alice");
  for (let i = 1; i <= 53; i++) await alice.say(`m${i}`);
  assertEquals(await alice.end(), 0);

  // the same user again, with every line written before it is even ready
  await using script = ClientProcess.start(server, "alice", {
    configHome: alice.configHome,
  });
  for (const line of ["/load 2", "/rooms", "/motd"]) await script.send(line);
  assertEquals(await script.end(), 0, `exit code\n${script.stderr.items}`);
  const events = script.events.items;
  assertEquals(errors(script), [], "no 'history is still loading'");
  const headers = events.filter((e) => e.type === "history");
  assertEquals(
    headers.map((e) => [e.reason, e.count]),
    [["join", 50], ["load", 2]],
  );
  const loadAt = events.indexOf(headers[1]!);
  assertEquals(texts(events.slice(loadAt)), ["m2", "m3"], "the page of /load");
  const rooms = events.find((e) => e.type === "rooms");
  assert(rooms, `the answer to /rooms: ${JSON.stringify(events)}`);
  assertEquals(rooms.rooms, [{
    room: "general",
    members: 1,
    joined: true,
    current: true,
  }]);
  assert(
    events.some((e) =>
      e.type === "system" && /no message of the day/.test(String(e.message))
    ),
    `the answer to /motd: ${JSON.stringify(events)}`,
  );
});

Deno.test("a late joiner is told how many earlier messages were sent before they joined", async () => {
  await using server = await ServerProcess.start();
  await using alice = await ClientProcess.ready(server, "alice");
  for (let i = 1; i <= 5; i++) await alice.say(`early ${i}`);
  await using carol = await ClientProcess.ready(server, "carol");
  const joinBlock = await carol.waitFor(
    (e) => e.type === "history",
    "the join history header",
  );
  assertEquals(
    [joinBlock.reason, joinBlock.count, joinBlock.unreadable],
    ["join", 0, 5],
  );
  await carol.send("/load");
  const load = await carol.waitFor(
    (e) => e.type === "history" && e.reason === "load",
    "the answer to /load",
  );
  assertEquals([load.count, load.unreadable], [0, 5]);
  await alice.waitFor((e) => e.type === "join" && e.user === "carol", "carol");
  await alice.say("after carol");
  await carol.waitFor((e) => e.text === "after carol", "a live message");
  await carol.send("/load");
  const again = await carol.waitFor(
    (e) => e.type === "history" && e.reason === "load" && e !== load,
    "the second /load",
  );
  assertEquals([again.count, again.unreadable], [0, 5], "below what she read");
});

Deno.test("a member who goes offline is reported once, not once per shared room", async () => {
  await using server = await ServerProcess.start();
  await using alice = await ClientProcess.ready(server, "alice");
  await using bob = await ClientProcess.ready(server, "bob");
  await alice.waitFor((e) => e.type === "join" && e.user === "bob", "bob");
  await alice.send("/join #dev");
  await alice.waitFor(
    (e) => e.type === "system" && /now talking in #dev/.test(String(e.message)),
    "alice in #dev",
  );
  await bob.send("/join #dev");
  await alice.waitFor(
    (e) => e.type === "join" && e.user === "bob" && e.room === "dev",
    "bob in #dev",
  );
  await bob.send("/msg alice hi in private");
  await alice.waitFor((e) => e.text === "hi in private", "the DM");
  assertEquals(await bob.end(), 0);
  const offline = await alice.waitFor(
    (e) => e.type === "presence" && e.user === "bob" && e.online === false,
    "bob offline",
  );
  // the server answers in order: once /rooms is answered, every presence
  // frame of bob's disconnect has arrived too
  await alice.send("/rooms");
  await alice.waitFor((e) => e.type === "rooms", "the room list");
  const lines = alice.events.items.filter((e) =>
    e.type === "presence" && e.user === "bob"
  );
  assertEquals(lines.length, 1, `presence events: ${JSON.stringify(lines)}`);
  assertEquals(
    [...(offline.rooms as string[])].sort(),
    ["dev", "dm:alice:bob", "general"],
    "the rooms alice shares with bob",
  );
});

Deno.test("leaving the current room says which room plain text goes to now", async () => {
  await using server = await ServerProcess.start();
  await using alice = await ClientProcess.ready(server, "alice");
  await alice.send("/join #dev");
  await alice.waitFor(
    (e) => e.type === "system" && /now talking in #dev/.test(String(e.message)),
    "alice in #dev",
  );
  await alice.send("/leave");
  const left = await alice.waitFor(
    (e) => e.type === "system" && /you left/.test(String(e.message)),
    "the leave",
  );
  assertEquals(left.message, "you left #dev; now talking in #general");
  await alice.say("back in general");
  assertEquals(
    alice.events.items.find((e) => e.text === "back in general")?.room,
    "general",
  );
});

Deno.test("a script piping more lines than the client can have unacknowledged waits instead of losing any", async () => {
  await using server = await ServerProcess.start();
  await using bob = await ClientProcess.ready(server, "bob");
  await using bot = await ClientProcess.ready(server, "bot");
  await bob.waitFor((e) => e.type === "join" && e.user === "bot", "the bot");
  // more than the 1,000 messages the client lets wait for acknowledgement
  const lines = Array.from({ length: 1_500 }, (_, i) => `bulk ${i + 1}`);
  await bot.send(lines.join("\n"));
  assertEquals(await bot.end(), 0, `the bot's exit code\n${bot.stderr.items}`);
  assertEquals(errors(bot), [], "no line refused");
  await bob.waitFor((e) => e.text === "bulk 1500", "the last line", 60_000);
  assertEquals(texts(bob.received()), lines, "every line, once, in order");
});

Deno.test("in line mode, history comes after a header per block, and a late joiner reads how much came before", async () => {
  await using server = await ServerProcess.start();
  await using alice = await ClientProcess.ready(server, "alice");
  for (let i = 1; i <= 3; i++) await alice.say(`old ${i}`);
  await alice.send("/join #dev");
  await alice.say("in dev", "dev");
  assertEquals(await alice.end(), 0);
  const plain = (user: string, home: string, stdin: string) =>
    runChat([
      "join",
      "--user",
      user,
      "--server",
      server.address,
      "--ca",
      server.caPath,
    ], { env: { XDG_CONFIG_HOME: home }, stdin });

  const back = await plain("alice", alice.configHome, "");
  assertEquals(back.code, 0, back.stderr);
  const lines = back.stdout.split("\n");
  const general = lines.indexOf("— earlier in #general —");
  const dev = lines.indexOf("— earlier in #dev —");
  assert(general >= 0 && dev >= 0, back.stdout);
  const block = (from: number) =>
    lines.slice(from + 1).filter((l) => /^\d\d:\d\d /.test(l));
  assert(
    /<alice> old 1$/.test(lines[general + 1] ?? ""),
    `the #general block starts under its header:\n${back.stdout}`,
  );
  assert(block(dev)[0]?.endsWith("<alice> in dev"), back.stdout);

  const carol = await plain(
    "carol",
    `${server.dir}/home-carol`,
    "/load\n",
  );
  assertEquals(carol.code, 0, carol.stderr);
  assert(
    carol.stdout.includes(
      "— 3 earlier messages in #general were sent before you joined —",
    ),
    carol.stdout,
  );
});
