import { Outbox } from "./outbox.ts";
import { assert, assertEquals, assertMatch } from "../shared/_test_assert.ts";

const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const body = (text: string) => ({ kind: "text" as const, text });

/** Let every queued promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Start waiting for `outbox` to empty; the returned function says whether it has. */
function watchEmpty(outbox: Outbox): () => boolean {
  let done = false;
  outbox.whenEmpty().then(() => done = true);
  return () => done;
}

Deno.test("outbox add queues a message that get finds and delete removes", () => {
  const outbox = new Outbox(10);
  assertEquals(outbox.size, 0);
  const m = outbox.add("general", body("hi"))!;
  assertEquals(outbox.size, 1);
  assertEquals(outbox.get(m.id), m);
  assertEquals(m.room, "general");
  assertEquals(m.body, body("hi"));
  assertEquals([m.epoch, m.counter, m.ts, m.tries, m.sentOn], [
    -1,
    -1,
    0,
    0,
    null,
  ]);
  outbox.delete(m.id);
  assertEquals(outbox.size, 0);
  assertEquals(outbox.get(m.id), undefined);
});

Deno.test("outbox delete of an unknown id changes nothing", () => {
  const outbox = new Outbox(10);
  outbox.add("general", body("a"));
  outbox.delete("not-an-id");
  assertEquals(outbox.size, 1);
});

Deno.test("outbox add returns null when full and keeps what it has", () => {
  const outbox = new Outbox(2);
  const a = outbox.add("general", body("a"));
  const b = outbox.add("general", body("b"));
  assert(a && b);
  assertEquals(outbox.add("general", body("c")), null);
  assertEquals(outbox.size, 2);
  outbox.delete(a.id);
  assert(
    outbox.add("general", body("d")) !== null,
    "room again after a delete",
  );
});

Deno.test("outbox ids are UUIDs and all different", () => {
  const outbox = new Outbox(1000);
  const ids = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const m = outbox.add("general", body(String(i)))!;
    assertMatch(m.id, UUID);
    ids.add(m.id);
  }
  assertEquals(ids.size, 1000);
});

Deno.test("outbox unsentOn lists a room's messages not sent on that connection, oldest first", () => {
  const outbox = new Outbox(10);
  const first = {};
  const second = {};
  const a = outbox.add("general", body("a"))!;
  const b = outbox.add("random", body("b"))!;
  const c = outbox.add("general", body("c"))!;
  const d = outbox.add("general", body("d"))!;
  assertEquals(outbox.unsentOn("general", first).map((m) => m.id), [
    a.id,
    c.id,
    d.id,
  ]);
  a.sentOn = first;
  c.sentOn = second;
  assertEquals(outbox.unsentOn("general", first).map((m) => m.id), [
    c.id,
    d.id,
  ]);
  assertEquals(outbox.unsentOn("general", second).map((m) => m.id), [
    a.id,
    d.id,
  ]);
  assertEquals(outbox.unsentOn("random", first).map((m) => m.id), [b.id]);
  assertEquals(outbox.unsentOn("nowhere", first), []);
});

Deno.test("outbox whenEmpty resolves at once when the outbox is empty", async () => {
  const outbox = new Outbox(10);
  const done = watchEmpty(outbox);
  await settle();
  assert(done(), "an empty outbox did not resolve whenEmpty");
});

Deno.test("outbox whenEmpty resolves only when the last message is deleted", async () => {
  const outbox = new Outbox(10);
  const a = outbox.add("general", body("a"))!;
  const b = outbox.add("general", body("b"))!;
  const done = watchEmpty(outbox);
  await settle();
  assertEquals(done(), false, "resolved with two messages waiting");
  outbox.delete(a.id);
  await settle();
  assertEquals(done(), false, "resolved with one message waiting");
  outbox.delete(b.id);
  await settle();
  assertEquals(done(), true, "not resolved after the last delete");
});

Deno.test("outbox wakeAll releases every waiter even with messages left", async () => {
  const outbox = new Outbox(10);
  outbox.add("general", body("a"));
  const one = watchEmpty(outbox);
  const two = watchEmpty(outbox);
  await settle();
  assertEquals([one(), two()], [false, false]);
  outbox.wakeAll();
  await settle();
  assertEquals([one(), two()], [true, true]);
  assertEquals(outbox.size, 1);
});

Deno.test("outbox after wakeAll, a new waiter still waits for the outbox to empty", async () => {
  const outbox = new Outbox(10);
  const a = outbox.add("general", body("a"))!;
  outbox.wakeAll();
  const later = watchEmpty(outbox);
  await settle();
  assertEquals(later(), false, "resolved with a message waiting");
  outbox.delete(a.id);
  await settle();
  assertEquals(later(), true, "not resolved once empty");
});

Deno.test("outbox whenRoom waits while full and wakes one waiter per message removed", async () => {
  const outbox = new Outbox(2);
  const first = outbox.add("general", { kind: "text", text: "1" })!;
  const second = outbox.add("general", { kind: "text", text: "2" })!;
  const woken: string[] = [];
  const a = outbox.whenRoom().then(() => woken.push("a"));
  const b = outbox.whenRoom().then(() => woken.push("b"));
  await Promise.resolve();
  assertEquals(woken, [], "full: nobody woken");
  outbox.delete("not-there");
  await Promise.resolve();
  assertEquals(woken, [], "an unknown id frees nothing");
  outbox.delete(first.id);
  await a;
  assertEquals(woken, ["a"], "one slot: one waiter");
  outbox.delete(second.id);
  await b;
  assertEquals(woken, ["a", "b"]);
  await outbox.whenRoom(); // not full: at once
});
