/**
 * Tests of the SQLite store's abuse limits (issue 13): history pages come
 * from bounded, indexed windows and yield between them; quotas refuse a
 * write over a user's or a room's cap and count only what was stored;
 * retention deletes what marks show as old, oldest first, with the wraps
 * nothing needs.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import { assert, assertEquals } from "../../shared/_test_assert.ts";
import type { StoredMessage, StoredWrap } from "./history_store.ts";
import { SqliteHistoryStore, type StoreOptions } from "./sqlite_store.ts";
import { HISTORY_WINDOW, KEYS_PER_STEP } from "./sqlite_history.ts";
import { DEFAULT_STORAGE_QUOTAS, QuotaError } from "./storage_quota.ts";

async function withStore(
  options: StoreOptions,
  fn: (store: SqliteHistoryStore, path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat_limits_test_" });
  const path = `${dir}/chat.db`;
  const store = new SqliteHistoryStore(path, options);
  try {
    await fn(store, path);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function wrapsFor(
  room: string,
  sender: string,
  epoch: number,
  recipients: string[],
): StoredWrap[] {
  return recipients.map((recipient) => ({
    room,
    sender,
    epoch,
    roster: 1,
    recipient,
    wrap: "w".repeat(100),
    sig: "s".repeat(20),
  }));
}

/** `count` messages of `sender` under `epoch`, appended in one turn. */
async function appendMany(
  store: SqliteHistoryStore,
  room: string,
  sender: string,
  epoch: number,
  count: number,
): Promise<number[]> {
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      store.appendMessage({
        room,
        id: `${sender}-${epoch}-${i}`,
        sender,
        epoch,
        counter: i,
        ts: 0,
        iv: "iv",
        ct: "ct",
        sig: "sig",
      })),
  );
  return results.map((r) => r.seq);
}

const seqs = (list: StoredMessage[]) => list.map((m) => m.seq);

Deno.test("history walks windows of the primary key, never the whole room", async () => {
  await withStore({}, async (store, path) => {
    await store.addMember("big", "ann");
    await store.saveSenderKey(wrapsFor("big", "ann", 1, ["ann", "bo"]));
    const early = await appendMany(store, "big", "ann", 1, 3);
    await store.saveSenderKey(wrapsFor("big", "ann", 2, ["ann"]));
    await appendMany(store, "big", "ann", 2, 3 * HISTORY_WINDOW);
    await store.saveSenderKey(wrapsFor("big", "ann", 3, ["ann", "bo"]));
    const late = await appendMany(store, "big", "ann", 3, 2);
    // bo reads epochs 1 and 3: the page skips the windows of epoch 2
    const page = await store.history("big", "bo", 1e9, 50);
    assertEquals(seqs(page), [...late].reverse().concat([...early].reverse()));
    const after = await store.historyAfter("big", "bo", 0, 4);
    assertEquals(seqs(after), [...early, late[0]!]);
    assertEquals(await store.history("big", "nobody", 1e9, 50), []);
    assertEquals(await store.historyAfter("big", "nobody", 0, 50), []);
    const db = new DatabaseSync(path, { readOnly: true });
    const plan = (sql: string) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[])
        .map((r) => r.detail).join("; ");
    const window = plan(`SELECT m.* FROM messages m CROSS JOIN sender_keys k
      WHERE m.room = 'big' AND m.seq < 9 AND m.seq >= 1 AND k.room = m.room
      AND k.sender = m.sender AND k.epoch = m.epoch AND k.recipient = 'bo'
      ORDER BY m.seq DESC LIMIT 50`);
    db.close();
    assert(
      /SEARCH m USING PRIMARY KEY \(room=\? AND seq>\? AND seq<\?\)/.test(
        window,
      ),
      window,
    );
    assert(!/SCAN|TEMP B-TREE/.test(window), window);
  });
});

Deno.test("a history walk over many windows lets other work run in between", async () => {
  await withStore({}, async (store) => {
    await store.addMember("big", "ann");
    await store.saveSenderKey(wrapsFor("big", "ann", 1, ["ann", "bo"]));
    await appendMany(store, "big", "ann", 1, 1);
    await store.saveSenderKey(wrapsFor("big", "ann", 2, ["ann"]));
    await appendMany(store, "big", "ann", 2, 4 * HISTORY_WINDOW);
    await store.saveSenderKey(wrapsFor("big", "ann", 3, ["ann", "bo"]));
    await appendMany(store, "big", "ann", 3, 1);
    let ranMeanwhile = false;
    setImmediate(() => ranMeanwhile = true);
    const page = await store.history("big", "bo", 1e9, 50);
    assertEquals(page.length, 2);
    assert(ranMeanwhile, "another turn's work ran during the walk");
  });
});

Deno.test("a message over a user's row quota is refused, stores nothing, and others go on", async () => {
  const quotas = {
    ...DEFAULT_STORAGE_QUOTAS,
    "user-messages": { rows: 3, bytes: 1_000_000 },
  };
  await withStore({ quotas }, async (store) => {
    await store.addMember("r", "ann");
    await appendMany(store, "r", "ann", 1, 3);
    const again = await store.appendMessage({
      room: "r",
      id: "ann-1-0",
      sender: "ann",
      epoch: 1,
      counter: 0,
      ts: 0,
      iv: "iv",
      ct: "ct",
      sig: "sig",
    });
    assert(again.duplicate, "a repeat is acknowledged again, not counted");
    let error: unknown;
    try {
      await appendMany(store, "r", "ann", 1, 4);
    } catch (e) {
      error = e;
    }
    assert(error instanceof QuotaError, `expected QuotaError, got ${error}`);
    assertEquals(error.code, "quota_exceeded");
    assert(/user-messages quota \(3 rows/.test(error.message), error.message);
    assertEquals(await store.lastSeq("r"), 3, "nothing more stored");
    assertEquals((await appendMany(store, "r", "bo", 1, 2)).length, 2);
    assertEquals(store.usage.usage("user-messages", "ann").rows, 3);
  });
});

Deno.test("wraps over a room's byte quota are refused as a whole; usage is recounted at open", async () => {
  const quotas = {
    ...DEFAULT_STORAGE_QUOTAS,
    "room-wraps": { rows: 1000, bytes: 500 },
  };
  await withStore({ quotas }, async (store, path) => {
    await store.addMember("r", "ann");
    await store.saveSenderKey(wrapsFor("r", "ann", 1, ["ann", "bo", "cy"]));
    let error: unknown;
    try {
      await store.saveSenderKey(wrapsFor("r", "bo", 1, ["ann", "bo"]));
    } catch (e) {
      error = e;
    }
    assert(
      error instanceof QuotaError && error.kind === "room-wraps",
      `${error}`,
    );
    assertEquals(await store.getWrap("r", "bo", 1, "ann"), null);
    const reopened = new SqliteHistoryStore(path, { quotas });
    try {
      assertEquals(reopened.usage.usage("room-wraps", "r"), {
        rows: 3,
        bytes: 360,
      });
    } finally {
      await reopened.close();
    }
  });
});

Deno.test("retention deletes messages marked old, oldest first, and the wraps nothing needs", async () => {
  let now = 1_000_000_000;
  const day = 86_400_000;
  await withStore({}, async (_unused, path) => {
    const seed = new SqliteHistoryStore(path);
    await seed.addMember("r", "ann");
    await seed.saveSenderKey(wrapsFor("r", "ann", 1, ["ann", "bo"]));
    await seed.saveSenderKey(wrapsFor("r", "ann", 2, ["ann", "bo"]));
    await seed.saveSenderKey(wrapsFor("r", "ann", 3, ["ann", "bo"]));
    await appendMany(seed, "r", "ann", 3, 1200); // epochs 1 and 2 unused
    await seed.close();
    const store = new SqliteHistoryStore(path, {
      retainMs: 30 * day,
      now: () => now,
    });
    try {
      await store.retention!.sweep(); // marks seq 1200 at `now`
      await store.saveSenderKey(wrapsFor("r", "ann", 4, ["ann", "bo"]));
      const recent = await appendMany(store, "r", "ann", 4, 5);
      now += 31 * day;
      const deleted = await store.retention!.sweep();
      assertEquals(deleted, 1200 + 6, "messages, the wraps of epochs 1-3");
      assertEquals(await store.firstSeq("r"), recent[0]);
      assertEquals(seqs(await store.historyAfter("r", "bo", 0, 50)), recent);
      assertEquals(await store.getWrap("r", "ann", 1, "bo"), null);
      assertEquals(await store.getWrap("r", "ann", 3, "bo"), null);
      assert(await store.getWrap("r", "ann", 4, "bo"), "the current key stays");
      assertEquals(store.usage.usage("user-messages", "ann").rows, 5);
      now += 31 * day;
      await store.retention!.sweep();
      assertEquals(await store.firstSeq("r"), 0, "all gone");
      assert(await store.getWrap("r", "ann", 4, "bo"), "the current key stays");
    } finally {
      await store.close();
    }
  });
});

Deno.test("a member holding more keys than one step reads the right range", async () => {
  await withStore({}, async (store) => {
    await store.addMember("r", "ann");
    const epochs = KEYS_PER_STEP / 2 + 50; // two senders: over one step
    const expected: number[] = [];
    for (let epoch = 1; epoch <= epochs; epoch++) {
      for (const sender of ["ann", "cy"]) {
        // bo holds every key but cy's first and ann's last
        const skip = (sender === "cy" && epoch === 1) ||
          (sender === "ann" && epoch === epochs);
        await store.saveSenderKey(
          wrapsFor("r", sender, epoch, skip ? [sender] : [sender, "bo"]),
        );
        const [seq] = await appendMany(store, "r", sender, epoch, 1);
        if (!skip) expected.push(seq!);
      }
    }
    const first = await store.historyAfter("r", "bo", 0, 3);
    assertEquals(seqs(first), expected.slice(0, 3));
    const last = await store.history("r", "bo", 1e9, 3);
    assertEquals(seqs(last), expected.slice(-3).reverse());
  });
});
