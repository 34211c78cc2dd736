/**
 * History end to end: what a (re)joining member gets, what a late joiner
 * cannot get, /load paging, and /save of the decrypted transcript.
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import {
  type ClientEvent,
  ClientProcess,
  disposableList,
  ServerProcess,
} from "./_harness.ts";

function messageTexts(client: ClientProcess, history?: boolean): string[] {
  return client.events.items
    .filter((e) =>
      e.type === "message" && (history === undefined || e.history === history)
    )
    .map((e) => String(e.text));
}

Deno.test("a late joiner gets nothing sent before it joined, and no key for it exists", async () => {
  await using server = await ServerProcess.start();
  await using clients = disposableList<ClientProcess>();
  const [alice, bob] = await ClientProcess.members(
    server,
    ["alice", "bob"],
    clients,
  ) as [ClientProcess, ClientProcess];
  for (let i = 1; i <= 3; i++) await alice.say(`early ${i}`);
  await bob.waitFor((e) => e.text === "early 3", "the early messages");
  const carol = await ClientProcess.ready(server, "carol");
  clients.push(carol);
  await alice.waitFor(
    (e) => e.type === "join" && e.user === "carol",
    "carol joining",
  );
  await alice.say("after carol joined");
  await carol.waitFor(
    (e) => e.text === "after carol joined",
    "the later message",
  );
  assertEquals(messageTexts(carol), ["after carol joined"]);
  assertEquals(
    carol.events.items.filter((e) => e.type === "error").length,
    0,
  );
  for (const c of clients) assertEquals(await c.end(), 0);
  await server.stop();
  using db = new DatabaseSync(join(server.dataDir, "chat.db"), {
    readOnly: true,
  });
  const early = db.prepare(
    "SELECT DISTINCT epoch FROM messages WHERE room = 'general' AND seq <= 3",
  ).all() as { epoch: number }[];
  assert(early.length > 0);
  for (const { epoch } of early) {
    const forCarol = db.prepare(
      "SELECT COUNT(*) AS n FROM sender_keys WHERE room = 'general' AND sender = 'alice' AND epoch = ? AND recipient = 'carol'",
    ).get(epoch) as { n: number };
    assertEquals(forCarol.n, 0, `a wrap of epoch ${epoch} for carol`);
  }
});

Deno.test("a member who comes back gets the last 50 messages as history, own ones included, then /load pages back", async () => {
  await using server = await ServerProcess.start();
  await using clients = disposableList<ClientProcess>();
  const alice = await ClientProcess.ready(server, "alice");
  clients.push(alice);
  let bob = await ClientProcess.ready(server, "bob");
  clients.push(bob);
  await alice.waitFor(
    (e) => e.type === "join" && e.user === "bob",
    "bob joining",
  );
  // one at a time, so that sequence order is text order
  for (let i = 1; i <= 60; i++) await (i % 2 ? alice : bob).say(`m${i}`);
  await alice.waitFor((e) => e.text === "m60", "the last message");
  await bob.waitFor((e) => e.text === "m59", "alice's last");
  assertEquals(await bob.end(), 0);
  bob = await ClientProcess.ready(server, "bob", {
    configHome: bob.configHome,
  });
  clients.push(bob);
  await bob.waitFor((e) => e.text === "m60", "the history");
  const history = bob.events.items.filter((e) => e.type === "message");
  assertEquals(
    history.map((e) => e.text),
    Array.from({ length: 50 }, (_, i) => `m${i + 11}`),
  );
  assert(history.every((e) => e.history === true), "all marked as history");
  assertEquals(history.filter((e) => e.own).map((e) => e.text).length, 25);
  assertEquals(history.find((e) => e.text === "m12")?.own, true);
  assertEquals(history.find((e) => e.text === "m11")?.from, "alice");
  // the ready event comes before any history, and a header before the block
  assertEquals(bob.events.items[0]?.type, "ready");
  assertEquals(bob.events.items[1], {
    type: "history",
    room: "general",
    reason: "join",
    count: 50,
    unreadable: 0,
  });

  const loaded = (count: number) => (e: ClientEvent) =>
    e.type === "history" && e.reason === "load" && e.count === count &&
    e.unreadable === 0;
  await bob.send("/load 4");
  await bob.waitFor(loaded(4), "/load 4");
  await bob.send("/load");
  await bob.waitFor(loaded(6), "/load");
  await bob.send("/load");
  await bob.waitFor(loaded(0), "empty /load");
  const all = bob.events.items.filter((e) => e.type === "message").map((e) =>
    e.text
  );
  assertEquals(all.slice(50), [
    "m7",
    "m8",
    "m9",
    "m10",
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m6",
  ]);
  assertEquals(new Set(all).size, 60, "no message twice");

  // a new message after all that is live, not history
  await alice.say("live again");
  const live = await bob.waitFor(
    (e) => e.text === "live again",
    "live message",
  );
  assertEquals(live.history, false);
  for (const c of [alice, bob]) assertEquals(await c.end(), 0);
});

Deno.test("/save writes the decrypted transcript and refuses overwrite, symlinks and traversal", async () => {
  await using server = await ServerProcess.start();
  await using clients = disposableList<ClientProcess>();
  const [alice, bob] = await ClientProcess.members(
    server,
    ["alice", "bob"],
    clients,
  ) as [ClientProcess, ClientProcess];
  await alice.say("first line");
  await bob.say("second line");
  await alice.send("/me waves");
  await bob.waitFor((e) => e.text === "waves", "the action");
  await alice.waitFor((e) => e.text === "second line", "bob's line");

  const out = await Deno.realPath(
    await Deno.makeTempDir({ dir: server.dir }),
  );
  const target = join(out, "transcript.txt");
  await bob.send(`/save ${target}`);
  const saved = await bob.waitFor(
    (e) => e.type === "system" && /^saved /.test(String(e.message)),
    "/save",
  );
  assertEquals(saved.message, `saved 3 messages of #general to ${target}`);
  const text = await Deno.readTextFile(target);
  const lines = text.trimEnd().split("\n");
  assertEquals(lines.length, 3);
  assert(
    /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d <alice> first line$/.test(lines[0]!),
    lines[0],
  );
  assert(lines[1]!.endsWith("<bob> second line"), lines[1]);
  assert(lines[2]!.endsWith("* alice waves"), lines[2]);
  assertEquals((await Deno.stat(target)).mode! & 0o777, 0o600);

  await bob.send(`/save ${target}`);
  await bob.waitFor(
    (e) =>
      e.type === "error" && /refusing to overwrite/.test(String(e.message)),
    "overwrite refused",
  );
  assertEquals(await Deno.readTextFile(target), text);

  const elsewhere = await Deno.realPath(
    await Deno.makeTempDir({ dir: server.dir }),
  );
  await Deno.symlink(elsewhere, join(out, "link"));
  await bob.send(`/save ${join(out, "link", "x.txt")}`);
  await bob.waitFor(
    (e) => e.type === "error" && /symbolic link/.test(String(e.message)),
    "symlink refused",
  );
  assertEquals([...Deno.readDirSync(elsewhere)].length, 0);

  await bob.send(`/save ${out}/../escape.txt`);
  await bob.waitFor(
    (e) => e.type === "error" && /"\.\."/.test(String(e.message)),
    "traversal refused",
  );

  await bob.send(`/save --format jsonl ${join(out, "t.jsonl")}`);
  await bob.waitFor(
    (e) => e.type === "system" && String(e.message).endsWith("t.jsonl"),
    "jsonl save",
  );
  const records = (await Deno.readTextFile(join(out, "t.jsonl"))).trimEnd()
    .split("\n").map((l) => JSON.parse(l));
  assertEquals(records.map((r) => [r.room, r.from, r.kind, r.text]), [
    ["general", "alice", "text", "first line"],
    ["general", "bob", "text", "second line"],
    ["general", "alice", "me", "waves"],
  ]);
  assertIncludes(JSON.stringify(records.map((r) => r.seq)), "[1,2,3]");
  for (const c of clients) assertEquals(await c.end(), 0);
});
