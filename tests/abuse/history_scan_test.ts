/**
 * Issue 13, item 4: one member asks again and again for the history of a
 * big room they cannot read a message of (a late joiner: every page is
 * empty). Each request used to scan the whole room synchronously, and
 * everyone else's frames waited. The room is built straight into the
 * database before the server starts (CI: 30,000 messages; full size:
 * 100,000), then several accounts (CI: 4, full: 8) pipeline history
 * requests as fast as their per-user history rate lets them (a burst of
 * 200, then 20 a second; the old code spent 11 ms per request at CI size,
 * 37 ms at full size) while two real clients keep chatting.
 * @module
 */
import { assert } from "../../shared/_test_assert.ts";
import { join } from "node:path";
import { ServerProcess, tempDir } from "../_harness.ts";
import {
  connectAs,
  joinRoom,
  type RawConnection,
  rawIdentity,
} from "../_raw_client.ts";
import type { RawFrame } from "../../shared/codec.ts";
import { SqliteHistoryStore } from "../../server/store/sqlite_store.ts";
import { assertHealthy, ChatProbe, RssSampler, scaled } from "./_probe.ts";

/** `count` messages from "ghost" in `room`, under a key only ghost holds. */
export async function seedBigRoom(
  dbPath: string,
  room: string,
  count: number,
): Promise<void> {
  const store = new SqliteHistoryStore(dbPath);
  try {
    await store.addMember(room, "ghost");
    await store.saveSenderKey([{
      room,
      sender: "ghost",
      epoch: 1,
      roster: 1,
      recipient: "ghost",
      wrap: "w".repeat(512),
      sig: "s".repeat(86),
    }]);
    for (let i = 0; i < count; i += 2000) {
      const batch = [];
      for (let j = i; j < Math.min(count, i + 2000); j++) {
        batch.push(store.appendMessage({
          room,
          id: `seed-${j}`,
          sender: "ghost",
          epoch: 1,
          counter: j,
          ts: Date.now(),
          iv: "i".repeat(16),
          ct: "c".repeat(120),
          sig: "s".repeat(86),
        }));
      }
      await Promise.all(batch);
    }
  } finally {
    await store.close();
  }
}

/**
 * Pipeline `rounds` × `perRound` empty history requests; resolves how many
 * were answered with a page (the rest were refused as `rate_limited`).
 */
async function askRepeatedly(
  conn: RawConnection,
  room: string,
  before: number,
  rounds: number,
  perRound: number,
): Promise<number> {
  const answer = (f: RawFrame) =>
    f.t === "history_end" || (f.t === "error" && f.code === "rate_limited");
  for (let r = 0; r < rounds; r++) {
    const seen = conn.frames.length;
    for (let i = 0; i < perRound; i++) {
      await conn.send({ t: "history", room, before, limit: 50 });
    }
    await conn.waitFor(
      () => conn.frames.slice(seen).filter(answer).length >= perRound,
      `${perRound} answers`,
    );
  }
  return conn.frames.filter((f) => f.t === "history_end").length;
}

Deno.test("repeated history requests for a big room do not slow other members down", async () => {
  const messages = scaled(30_000, 100_000);
  await using dir = await tempDir("chat-history-scan-");
  await Deno.mkdir(join(dir.path, "data"), { recursive: true, mode: 0o700 });
  await seedBigRoom(join(dir.path, "data", "chat.db"), "big", messages);
  // the default per-user history rate (a burst of 200, then 20 a second)
  // for several accounts; the per-connection input budget is lifted so
  // that it does not cut the pipelined requests off first
  await using server = await ServerProcess.start({
    dir: dir.path,
    args: ["--input-frames-per-second", "1000", "--input-frames-burst", "1000"],
  });
  await using rss = await RssSampler.start(server.pid);
  await using probe = await ChatProbe.start(server);
  const attackers: RawConnection[] = [];
  try {
    const accounts = scaled(4, 8), rounds = scaled(6, 10), perRound = 50;
    for (let i = 0; i < accounts; i++) {
      const conn = await connectAs(server, await rawIdentity(`mallory${i}`));
      attackers.push(conn);
      conn.startReading();
      await joinRoom(conn, "big");
    }
    const answered = await Promise.all(
      attackers.map((c) =>
        askRepeatedly(c, "big", messages + 1, rounds, perRound)
      ),
    );
    const report = await probe.finish();
    const summary = await assertHealthy(server, rss, report);
    assert(answered.every((n) => n >= 200), `pages: ${answered}`);
    console.log(
      `history scan, ${messages} messages, ${answered.length}×${
        rounds * perRound
      } requests: ${summary}`,
    );
  } finally {
    for (const conn of attackers) await conn.close();
  }
});
