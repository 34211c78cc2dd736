import { assertEquals } from "../shared/_test_assert.ts";
import { PendingRequests } from "./pending_requests.ts";

Deno.test("pending requests: an answer wakes every waiter of its key, and only those", async () => {
  const pending = new PendingRequests();
  const a = pending.wait("room:general", false);
  const b = pending.wait("room:general", false);
  const other = pending.wait("room:dev", false);
  assertEquals(pending.size, 3);
  pending.answer("room:general", true);
  assertEquals(await Promise.all([a, b]), [true, true]);
  assertEquals(pending.has("room:general"), false);
  assertEquals(pending.has("room:dev"), true);
  pending.answer("room:nobody", true); // nobody waits: nothing happens
  pending.giveUpAll();
  assertEquals(await other, false);
  assertEquals(pending.size, 0);
});

Deno.test("pending requests: giving up on a prefix gives each waiter its own fallback", async () => {
  const pending = new PendingRequests();
  const joins = [pending.wait("room:a", false), pending.wait("room:b", false)];
  const lookup = pending.wait<string | null>("user:bob", null);
  pending.giveUp("room:");
  assertEquals(await Promise.all(joins), [false, false]);
  assertEquals(pending.has("user:bob"), true);
  pending.answer("user:bob", "bob's keys");
  assertEquals(await lookup, "bob's keys");
});

Deno.test("pending requests: an unanswered request gets its fallback after the timeout", async () => {
  const pending = new PendingRequests(20);
  const slow = pending.wait<number | null>("load:general", null);
  const kept = pending.wait<number | null>("load:general", null);
  assertEquals(await slow, null);
  assertEquals(await kept, null, "each waiter times out on its own timer");
  assertEquals(pending.size, 0);
  pending.answer("load:general", 5); // late answer: nobody waits any more
});
