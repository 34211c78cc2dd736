/**
 * Retention (`chat serve --retain`): messages stored before the retention
 * period go, with the wraps of their keys once nothing needs them; recent
 * messages and the current key stay, and `history_end` keeps saying the
 * oldest stored seq (`firstSeq`), from which clients count what a late
 * joiner cannot read. The old part of the room is written straight into
 * the database, marked as stored 100 days ago.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { assertEquals } from "../../shared/_test_assert.ts";
import { ServerProcess, tempDir } from "../_harness.ts";
import { connectAs, rawIdentity } from "../_raw_client.ts";
import { SqliteHistoryStore } from "../../server/store/sqlite_store.ts";
import { assertHealthy, ChatProbe, RssSampler, scaled } from "./_probe.ts";

const DAY = 86_400_000;

/** `count` messages of ghost's under `epoch` (wrapped for ghost and mallory). */
async function append(
  store: SqliteHistoryStore,
  epoch: number,
  count: number,
): Promise<void> {
  await store.saveSenderKey(["ghost", "mallory"].map((recipient) => ({
    room: "archive",
    sender: "ghost",
    epoch,
    roster: 2,
    recipient,
    wrap: "w".repeat(512),
    sig: "s".repeat(86),
  })));
  const batch = [];
  for (let i = 0; i < count; i++) {
    batch.push(store.appendMessage({
      room: "archive",
      id: `e${epoch}-${i}`,
      sender: "ghost",
      epoch,
      counter: i,
      ts: Date.now(),
      iv: "i".repeat(16),
      ct: "c".repeat(120),
      sig: "s".repeat(86),
    }));
  }
  await Promise.all(batch);
}

/** Old messages (marked stored 100 days ago) then recent ones, in `dbPath`. */
async function seed(dbPath: string, old: number, recent: number) {
  {
    await using store = {
      s: new SqliteHistoryStore(dbPath),
      [Symbol.asyncDispose]() {
        return this.s.close();
      },
    };
    await store.s.addMember("archive", "ghost");
    await store.s.addMember("archive", "mallory");
    await append(store.s, 1, old);
  }
  const db = new DatabaseSync(dbPath);
  db.prepare("INSERT INTO seq_marks (room, at, seq) VALUES (?, ?, ?)")
    .run("archive", Date.now() - 100 * DAY, old);
  db.close();
  const store = new SqliteHistoryStore(dbPath);
  await append(store, 2, recent);
  await store.close();
}

Deno.test("retention deletes old messages and their keys, keeps recent ones and firstSeq right", async () => {
  const old = scaled(3000, 100_000), recent = 40;
  await using dir = await tempDir("chat-retention-");
  const dbPath = join(dir.path, "data", "chat.db");
  await Deno.mkdir(join(dir.path, "data"), { recursive: true, mode: 0o700 });
  await seed(dbPath, old, recent);
  {
    await using server = await ServerProcess.start({
      dir: dir.path,
      args: ["--retain", "30d"],
    });
    await using rss = await RssSampler.start(server.pid);
    await using probe = await ChatProbe.start(server);
    await server.output.waitFor((l) => /retention: deleted/.test(l), "a sweep");
    const mallory = await connectAs(server, await rawIdentity("mallory"));
    try {
      mallory.startReading();
      await mallory.send({
        t: "history",
        room: "archive",
        before: 1e9,
        limit: 500,
      });
      const end = await mallory.waitFor((f) => f.t === "history_end", "end");
      const seqs = mallory.frames.filter((f) => f.t === "msg").map((f) =>
        Number(f.seq)
      );
      assertEquals(seqs.length, recent, "recent messages kept");
      assertEquals(seqs[0], old + 1, "the oldest kept");
      assertEquals(
        [end.firstSeq, end.lastSeq],
        [old + 1, old + recent],
        "bounds",
      );
      const epochs = mallory.frames.filter((f) => f.t === "key").map((f) =>
        f.epoch
      );
      assertEquals(epochs, [2], "only the current key is sent");
    } finally {
      await mallory.close();
    }
    const report = await probe.finish();
    console.log(
      `retention of ${old} old messages: ${await assertHealthy(
        server,
        rss,
        report,
      )}`,
    );
  }
  const db = new DatabaseSync(dbPath);
  const wraps = db.prepare(
    "SELECT epoch, COUNT(*) AS n FROM sender_keys WHERE room = 'archive' GROUP BY epoch",
  ).all();
  db.close();
  assertEquals(wraps.map((r) => [r.epoch, r.n]), [[2, 2]], "wraps left");
});
