import { ReplayGuard } from "./replay_guard.ts";
import { assertEquals } from "../_test_assert.ts";

Deno.test("replay guard calls an unseen live message new", () => {
  const guard = new ReplayGuard();
  assertEquals(guard.checkLive("general", "alice", 1, 0, 10), "new");
  assertEquals(guard.checkLive("general", "alice", 1, 1, 11), "new");
  assertEquals(
    guard.checkLive("general", "alice", 1, 5, 12),
    "new",
    "gaps are fine",
  );
});

Deno.test("replay guard calls an unseen history message new", () => {
  const guard = new ReplayGuard();
  assertEquals(guard.checkHistory("general", "alice", 1, 3, 7), "new");
});

Deno.test("replay guard calls the same name with the same seq on history a redelivery", () => {
  const guard = new ReplayGuard();
  assertEquals(guard.checkHistory("general", "alice", 1, 3, 7), "new");
  assertEquals(guard.checkHistory("general", "alice", 1, 3, 7), "redelivery");
  assertEquals(guard.checkHistory("general", "alice", 1, 3, 7), "redelivery");
});

Deno.test("replay guard calls the same name under a different seq a replay", () => {
  const guard = new ReplayGuard();
  assertEquals(guard.checkHistory("general", "alice", 1, 3, 7), "new");
  assertEquals(guard.checkHistory("general", "alice", 1, 3, 8), "replay");
  assertEquals(guard.checkLive("general", "alice", 1, 3, 9), "replay");
});

Deno.test("replay guard calls a live counter that does not increase a replay", () => {
  const guard = new ReplayGuard();
  assertEquals(guard.checkLive("general", "alice", 1, 5, 10), "new");
  assertEquals(
    guard.checkLive("general", "alice", 1, 4, 11),
    "replay",
    "lower",
  );
  assertEquals(
    guard.checkLive("general", "alice", 1, 5, 12),
    "replay",
    "equal, new seq",
  );
  assertEquals(guard.checkLive("general", "alice", 1, 6, 13), "new");
});

Deno.test("replay guard does not remember a refused live replay as seen", () => {
  const guard = new ReplayGuard();
  assertEquals(guard.checkLive("general", "alice", 1, 5, 10), "new");
  assertEquals(guard.checkLive("general", "alice", 1, 4, 11), "replay");
  // Refused once, so the same name with the same seq is still not a redelivery.
  assertEquals(guard.checkLive("general", "alice", 1, 4, 11), "replay");
});

Deno.test("replay guard calls a live message already seen with the same seq a redelivery", () => {
  const guard = new ReplayGuard();
  assertEquals(guard.checkLive("general", "alice", 1, 5, 10), "new");
  assertEquals(guard.checkLive("general", "alice", 1, 5, 10), "redelivery");
  assertEquals(guard.checkHistory("general", "alice", 1, 5, 10), "redelivery");
});

Deno.test("replay guard accepts an older message from history after newer live ones", () => {
  const guard = new ReplayGuard();
  assertEquals(guard.checkLive("general", "alice", 1, 5, 10), "new");
  assertEquals(guard.checkHistory("general", "alice", 1, 2, 7), "new");
  assertEquals(guard.checkLive("general", "alice", 1, 2, 7), "redelivery");
});

Deno.test("replay guard keeps different epochs, senders and rooms independent", () => {
  const guard = new ReplayGuard();
  assertEquals(guard.checkLive("general", "alice", 1, 5, 10), "new");
  assertEquals(
    guard.checkLive("general", "alice", 2, 0, 11),
    "new",
    "new epoch",
  );
  assertEquals(
    guard.checkLive("general", "bob", 1, 0, 12),
    "new",
    "other sender",
  );
  assertEquals(
    guard.checkLive("random", "alice", 1, 0, 1),
    "new",
    "other room",
  );
  assertEquals(guard.checkLive("general", "alice", 1, 4, 13), "replay");
  assertEquals(guard.checkLive("general", "alice", 2, 1, 14), "new");
  assertEquals(
    guard.checkHistory("general", "bob", 1, 5, 10),
    "new",
    "same counter and seq, other sender",
  );
});

Deno.test("replay guard treats sender names case-insensitively", () => {
  const guard = new ReplayGuard();
  assertEquals(guard.checkLive("general", "alice", 1, 5, 10), "new");
  assertEquals(guard.checkLive("general", "Alice", 1, 5, 10), "redelivery");
  assertEquals(guard.checkLive("general", "ALICE", 1, 3, 11), "replay");
});
