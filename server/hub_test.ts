/**
 * The hub over a real SQLite store, with sessions whose frame sinks record
 * what they are sent (the sink is the seam to the socket; here the test
 * decides when a send queue is full and when it drains).
 */
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { ProtocolError } from "../shared/errors.ts";
import { SqliteHistoryStore } from "./store/sqlite_store.ts";
import { framesOf, type RecordingSink, withHub } from "./_test_hub.ts";

Deno.test("a room takes members up to its cap, concurrent joins included, and refuses the next with room_full", async () => {
  await withHub({ maxRoomMembers: 3 }, async (hub, login) => {
    const sessions = await Promise.all(
      ["ann", "ben", "cat", "dan", "eve"].map(login),
    );
    const results = await Promise.allSettled(
      sessions.map((s) => hub.handle(s, { t: "join", room: "general" })),
    );
    const refused = results.filter((r) => r.status === "rejected");
    assertEquals(results.length - refused.length, 3);
    assertEquals(refused.length, 2);
    for (const r of refused) {
      const error = (r as PromiseRejectedResult).reason;
      assert(error instanceof ProtocolError, String(error));
      assertEquals(error.code, "room_full");
      assert(/general has 3 members/.test(error.message), error.message);
    }
    // a member leaving makes room for one more
    const inside = sessions.filter((_, i) =>
      results[i]!.status === "fulfilled"
    );
    const outside = sessions.filter((_, i) =>
      results[i]!.status === "rejected"
    );
    await hub.handle(inside[0]!, { t: "leave", room: "general" });
    await hub.handle(outside[0]!, { t: "join", room: "general" });
    const joined = framesOf(outside[0]!).findLast((f) => f.t === "joined");
    assert(joined?.t === "joined");
    assertEquals(joined.members.length, 3);
  });
});

Deno.test("a joined frame that waited for a full send queue carries the roster of when it was sent, not older", async () => {
  await withHub({}, async (hub, login) => {
    const ann = await login("ann");
    const ben = await login("ben");
    const annSink = ann.sink as RecordingSink;
    annSink.full = true;
    const annJoin = hub.handle(ann, { t: "join", room: "big" });
    await annSink.waitedOn(); // ann's roster waits for her queue
    await hub.handle(ben, { t: "join", room: "big" }); // roster changes meanwhile
    annSink.release();
    await annJoin;

    const frames = framesOf(ann).filter((f) =>
      (f.t === "joined" || f.t === "presence") && f.room === "big"
    );
    // ben's join happened before ann's roster was queued: she is not sent
    // his presence (her client would drop it), his join is in her roster
    assertEquals(frames.map((f) => f.t), ["joined"]);
    const joined = frames[0]!;
    assert(joined.t === "joined");
    const bens = framesOf(ben).findLast((f) => f.t === "joined");
    assert(bens?.t === "joined");
    assertEquals(joined.roster, bens.roster);
    assertEquals(joined.members.map((m) => m.user).sort(), ["ann", "ben"]);

    // from then on ann gets the room's traffic
    const cat = await login("cat");
    await hub.handle(cat, { t: "join", room: "big" });
    assert(
      framesOf(ann).some((f) =>
        f.t === "presence" && f.room === "big" && f.user === "cat"
      ),
      "ann sees cat join",
    );
  });
});

Deno.test("a roster still waiting for the send queue is not sent once its user has left the room", async () => {
  await withHub({}, async (hub, login) => {
    const ann = await login("ann");
    const annSink = ann.sink as RecordingSink;
    annSink.full = true;
    const annJoin = hub.handle(ann, { t: "join", room: "big" });
    await annSink.waitedOn();
    await hub.handle(ann, { t: "leave", room: "big" });
    annSink.release();
    await annJoin;
    const about = framesOf(ann).filter((f) =>
      (f.t === "joined" || f.t === "left") && f.room === "big"
    ).map((f) => f.t);
    assertEquals(about, ["left"]);
    assertEquals(ann.joinedRooms.has("big"), false);
  });
});

/** The real SQLite store, except that message appends wait for the test's go. */
class GatedAppendStore extends SqliteHistoryStore {
  static gate = Promise.withResolvers<void>();
  static waiting = Promise.withResolvers<void>();
  override async appendMessage(
    message: Parameters<SqliteHistoryStore["appendMessage"]>[0],
  ): ReturnType<SqliteHistoryStore["appendMessage"]> {
    GatedAppendStore.waiting.resolve();
    await GatedAppendStore.gate.promise;
    return await super.appendMessage(message);
  }
}

Deno.test("a message accepted before someone joined is not relayed to them, even if its commit ends after the join", async () => {
  await withHub({}, async (hub, login) => {
    const ann = await login("ann");
    const ben = await login("ben");
    await hub.handle(ann, { t: "join", room: "r" });
    const annJoined = framesOf(ann).findLast((f) => f.t === "joined");
    assert(annJoined?.t === "joined");
    await hub.handle(ann, {
      t: "keys",
      room: "r",
      epoch: 1,
      roster: annJoined.roster,
      wraps: [{ to: "ann", wrap: "w", sig: "s" }],
    });
    const sending = hub.handle(ann, {
      t: "msg",
      id: crypto.randomUUID(),
      room: "r",
      epoch: 1,
      counter: 0,
      ts: Date.now(),
      iv: "i",
      ct: "c",
      sig: "s",
    });
    await GatedAppendStore.waiting.promise; // accepted, being committed
    await hub.handle(ben, { t: "join", room: "r" });
    assert(ben.joinedRooms.has("r"), "ben is in and told so");
    GatedAppendStore.gate.resolve();
    await sending;
    assert(
      framesOf(ann).some((f) => f.t === "ack"),
      "ann's message was stored and acknowledged",
    );
    assertEquals(
      framesOf(ben).filter((f) =>
        (f.t === "msg" || f.t === "key") && f.room === "r"
      ),
      [],
    );
  }, GatedAppendStore);
});
