/**
 * Tests of the SQLite HistoryStore against a real database file in a temp
 * directory, with second `node:sqlite` connections to look at what is
 * actually committed.
 *
 * Not asserted here: `synchronous=FULL`. It is a per-connection setting, and
 * the SQLite built into Deno already defaults to FULL, so a second connection
 * reporting 2 would prove nothing about the store's own connection.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { SqliteHistoryStore } from "./sqlite_store.ts";
import {
  type StoredMessage,
  type StoredWrap,
  StoreError,
  type UserRecord,
} from "./history_store.ts";

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function assertEquals(actual: unknown, expected: unknown, what = "value") {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}\n  but got ${a}`);
}

/** Accepts a rejected promise or a synchronous throw (see the report). */
async function assertStoreError(
  run: () => Promise<unknown>,
  code?: string,
): Promise<StoreError> {
  try {
    await run();
  } catch (error) {
    assert(error instanceof StoreError, `expected StoreError, got ${error}`);
    if (code !== undefined) assertEquals(error.code, code, "error code");
    return error;
  }
  throw new Error("expected a StoreError, but nothing was thrown");
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat_store_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function withStore(
  fn: (store: SqliteHistoryStore, path: string) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const path = `${dir}/chat.db`;
    const store = new SqliteHistoryStore(path);
    try {
      await fn(store, path);
    } finally {
      await store.close();
    }
  });
}

/** A second connection; it only ever sees committed data. */
function withReader<T>(path: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function committedMessages(db: DatabaseSync): number {
  return Number(db.prepare("SELECT COUNT(*) AS n FROM messages").get()?.n);
}

/**
 * How many transactions the current WAL generation holds: the frames whose
 * salts match the WAL header and whose "database size after commit" is set.
 */
function walCommits(path: string): number {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(`${path}-wal`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
  if (bytes.length < 32) return 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frameSize = 24 + view.getUint32(8);
  const salt1 = view.getUint32(16), salt2 = view.getUint32(20);
  let commits = 0;
  for (let at = 32; at + frameSize <= bytes.length; at += frameSize) {
    if (view.getUint32(at + 8) !== salt1) break;
    if (view.getUint32(at + 12) !== salt2) break;
    if (view.getUint32(at + 4) !== 0) commits++;
  }
  return commits;
}

function user(userKey: string, skeleton = userKey): UserRecord {
  return {
    userKey,
    skeleton,
    name: userKey.toUpperCase(),
    uid: `uid-${userKey}`,
    idKey: new Uint8Array([0, 1, 127, 128, 255, userKey.length]),
    encKey: new Uint8Array([255, 0, 42, 0]),
    createdAt: 1_700_000_000_000,
  };
}

function message(
  room: string,
  sender: string,
  id: string,
  epoch = 1,
): Omit<StoredMessage, "seq"> {
  return {
    room,
    id,
    sender,
    epoch,
    counter: 7,
    ts: 1_700_000_000_123,
    iv: `iv-${id}`,
    ct: `ct-${id}`,
    sig: `sig-${id}`,
  };
}

function wraps(
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
    wrap: `wrap-${sender}-${epoch}-${recipient}`,
    sig: `sig-${sender}-${epoch}-${recipient}`,
  }));
}

const seqs = (list: StoredMessage[]) => list.map((m) => m.seq);

Deno.test("the database file is in WAL mode", async () => {
  await withStore(async (store, path) => {
    await store.addMember("lobby", "alice");
    const mode = withReader(
      path,
      (db) => db.prepare("PRAGMA journal_mode").get(),
    );
    assertEquals(mode?.journal_mode, "wal", "journal_mode");
    assert(walCommits(path) > 0, "a commit should have gone to the -wal file");
  });
});

Deno.test("a user round-trips by key and by skeleton, binary keys intact", async () => {
  await withStore(async (store) => {
    const alice = user("alice", "a1ice");
    await store.createUser(alice);
    const byKey = await store.getUser("alice");
    const bySkeleton = await store.getUserBySkeleton("a1ice");
    for (const found of [byKey, bySkeleton]) {
      assert(found !== null, "the user should be found");
      assert(found.idKey instanceof Uint8Array, "idKey should be bytes");
      assert(found.encKey instanceof Uint8Array, "encKey should be bytes");
      assertEquals([...found.idKey], [...alice.idKey], "idKey");
      assertEquals([...found.encKey], [...alice.encKey], "encKey");
      assertEquals(
        { ...found, idKey: 0, encKey: 0 },
        { ...alice, idKey: 0, encKey: 0 },
        "user",
      );
    }
    assertEquals(await store.getUser("bob"), null, "unknown user");
    assertEquals(await store.getUserBySkeleton("bob"), null, "unknown skel");
  });
});

Deno.test("a second user with a taken name or skeleton is a conflict", async () => {
  await withStore(async (store) => {
    await store.createUser(user("alice", "a1ice"));
    await assertStoreError(
      () => store.createUser(user("alice", "other")),
      "conflict",
    );
    await assertStoreError(
      () => store.createUser(user("aIice", "a1ice")),
      "conflict",
    );
    assertEquals(await store.getUserBySkeleton("other"), null, "no 2nd user");
    assertEquals(await store.getUser("aIice"), null, "no 3rd user");
  });
});

Deno.test("the roster goes up once per real membership change", async () => {
  await withStore(async (store) => {
    assertEquals(await store.addMember("lobby", "alice"), 1, "first join");
    assertEquals(await store.addMember("lobby", "bob"), 2, "second join");
    assertEquals(await store.addMember("lobby", "bob"), 2, "repeated join");
    assertEquals(await store.removeMember("lobby", "bob"), 3, "leave");
    assertEquals(await store.removeMember("lobby", "bob"), 3, "repeat leave");
    assertEquals(await store.addMember("other", "bob"), 1, "own roster");
    const rooms = await store.listRooms();
    const lobby = rooms.find((r) => r.room === "lobby");
    assertEquals(lobby, {
      room: "lobby",
      roster: 3,
      lastSeq: 0,
      members: ["alice"],
    }, "lobby");
  });
});

Deno.test("users, rooms, members and messages survive close and reopen", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chat.db`;
    const first = new SqliteHistoryStore(path);
    try {
      await first.createUser(user("alice"));
      await first.addMember("lobby", "alice");
      await first.addMember("lobby", "bob");
      await first.addMember("dev", "bob");
      await first.saveSenderKey(wraps("lobby", "alice", 1, ["bob"]));
      for (const id of ["m1", "m2", "m3"]) {
        await first.appendMessage(message("lobby", "alice", id));
      }
    } finally {
      await first.close();
    }
    const second = new SqliteHistoryStore(path);
    try {
      const rooms = (await second.listRooms())
        .map((r) => ({ ...r, members: r.members.toSorted() }))
        .toSorted((a, b) => a.room.localeCompare(b.room));
      assertEquals(rooms, [
        { room: "dev", roster: 1, lastSeq: 0, members: ["bob"] },
        { room: "lobby", roster: 2, lastSeq: 3, members: ["alice", "bob"] },
      ], "rooms");
      assertEquals((await second.getUser("alice"))?.uid, "uid-alice", "user");
      assertEquals(
        seqs(await second.history("lobby", "bob", 100, 10)),
        [3, 2, 1],
        "history",
      );
      const next = await second.appendMessage(message("lobby", "alice", "m4"));
      assertEquals(next, { seq: 4, duplicate: false }, "next append");
    } finally {
      await second.close();
    }
  });
});

Deno.test("a sender key is stored for every recipient and read back by epoch", async () => {
  await withStore(async (store) => {
    assertEquals(await store.latestEpoch("lobby", "alice"), 0, "no key yet");
    const epoch1 = wraps("lobby", "alice", 1, ["alice", "bob"]);
    await store.saveSenderKey(epoch1);
    await store.saveSenderKey(wraps("lobby", "alice", 3, ["bob"]));
    await store.saveSenderKey(wraps("lobby", "alice", 2, ["bob"]));
    await store.saveSenderKey(wraps("lobby", "bob", 5, ["alice"]));
    assertEquals(await store.latestEpoch("lobby", "alice"), 3, "alice max");
    assertEquals(await store.latestEpoch("lobby", "bob"), 5, "bob max");
    assertEquals(await store.latestEpoch("dev", "alice"), 0, "other room");
    assertEquals(
      await store.getWrap("lobby", "alice", 1, "bob"),
      epoch1[1],
      "bob's wrap",
    );
    assertEquals(
      await store.getWrap("lobby", "alice", 1, "carol"),
      null,
      "no wrap for carol",
    );
    assertEquals(
      await store.getWrap("lobby", "alice", 4, "bob"),
      null,
      "no epoch 4",
    );
  });
});

Deno.test("a sender key distribution that fails part-way stores no wrap", async () => {
  await withStore(async (store) => {
    await store.saveSenderKey(wraps("lobby", "alice", 1, ["carol"]));
    const clashing = wraps("lobby", "alice", 1, ["alice", "bob", "carol"]);
    await assertStoreError(() => store.saveSenderKey(clashing), "conflict");
    assertEquals(
      await store.getWrap("lobby", "alice", 1, "alice"),
      null,
      "the wrap written before the clash was rolled back",
    );
    assertEquals(await store.getWrap("lobby", "alice", 1, "bob"), null, "bob");
  });
});

Deno.test("each room numbers its messages 1, 2, 3 on its own", async () => {
  await withStore(async (store) => {
    await store.addMember("lobby", "alice");
    await store.addMember("dev", "alice");
    const results = [];
    for (const [room, id] of [["lobby", "a"], ["dev", "b"], ["lobby", "c"]]) {
      results.push(await store.appendMessage(message(room!, "alice", id!)));
    }
    assertEquals(results.map((r) => r.seq), [1, 1, 2], "seqs");
    assert(results.every((r) => !r.duplicate), "nothing is a duplicate");
    assertEquals(await store.lastSeq("lobby"), 2, "lobby last seq");
    assertEquals(await store.lastSeq("dev"), 1, "dev last seq");
    assertEquals(await store.lastSeq("nowhere"), 0, "unknown room");
  });
});

Deno.test("a repeated message id returns the first seq and stores nothing", async () => {
  await withStore(async (store, path) => {
    await store.addMember("lobby", "alice");
    await store.addMember("dev", "alice");
    const first = await store.appendMessage(message("lobby", "alice", "x"));
    const again = await store.appendMessage({
      ...message("lobby", "alice", "x"),
      ct: "different ciphertext",
    });
    assertEquals(again, { seq: first.seq, duplicate: true }, "repeat");
    assertEquals(await store.lastSeq("lobby"), 1, "no seq was consumed");
    assertEquals(await store.findMessageSeq("lobby", "alice", "x"), 1, "find");
    assertEquals(await store.findMessageSeq("lobby", "bob", "x"), null, "bob");
    assertEquals(await store.findMessageSeq("dev", "alice", "x"), null, "dev");
    const elsewhere = await store.appendMessage(message("dev", "alice", "x"));
    assertEquals(elsewhere, { seq: 1, duplicate: false }, "other room");
    const stored = withReader(
      path,
      (db) => db.prepare("SELECT room, ct FROM messages ORDER BY room").all(),
    );
    assertEquals(stored.map((r) => [r.room, r.ct]), [
      ["dev", "ct-x"],
      ["lobby", "ct-x"],
    ], "the first ciphertext is kept");
  });
});

Deno.test("appends made in one turn are committed in one transaction", async () => {
  await withStore(async (store, path) => {
    await store.addMember("lobby", "alice");
    await store.addMember("dev", "bob");
    const commitsBefore = walCommits(path);
    const issued = Array.from(
      { length: 200 },
      (_, i) =>
        i % 2 === 0
          ? store.appendMessage(message("lobby", "alice", `l${i}`))
          : store.appendMessage(message("dev", "bob", `d${i}`)),
    );
    const visibleWhenFirstAcked = issued[0]!.then(() =>
      withReader(path, committedMessages)
    );
    assertEquals(withReader(path, committedMessages), 0, "not yet committed");
    assertEquals(walCommits(path), commitsBefore, "no commit yet");
    const results = await Promise.all(issued);
    assertEquals(await visibleWhenFirstAcked, 200, "visible when acked");
    assertEquals(walCommits(path) - commitsBefore, 1, "transactions");
    const expected = Array.from({ length: 200 }, (_, i) => ({
      seq: Math.floor(i / 2) + 1,
      duplicate: false,
    }));
    assertEquals(results, expected, "consecutive seqs per room");
    assertEquals(withReader(path, committedMessages), 200, "all committed");
  });
});

Deno.test("registrations made in one turn share one commit; a taken name in the batch fails alone", async () => {
  await withStore(async (store, path) => {
    const commitsBefore = walCommits(path);
    const names = Array.from({ length: 50 }, (_, i) => `user${i}`);
    const registered = names.map((n) => store.createUser(user(n)));
    const taken = store.createUser(user("user7", "different-skeleton"));
    assertEquals(walCommits(path), commitsBefore, "nothing committed yet");
    await Promise.all(registered);
    await assertStoreError(() => taken, "conflict");
    assertEquals(walCommits(path) - commitsBefore, 1, "transactions");
    for (const n of names) {
      assert((await store.getUser(n)) !== null, `${n} is registered`);
    }
    assertEquals(
      await store.getUserBySkeleton("different-skeleton"),
      null,
      "the conflicting registration left nothing",
    );
  });
});

Deno.test("appends made in separate turns are separate transactions", async () => {
  await withStore(async (store, path) => {
    await store.addMember("lobby", "alice");
    const commitsBefore = walCommits(path);
    await store.appendMessage(message("lobby", "alice", "a"));
    assertEquals(withReader(path, committedMessages), 1, "first is durable");
    await store.appendMessage(message("lobby", "alice", "b"));
    assertEquals(withReader(path, committedMessages), 2, "second is durable");
    assertEquals(walCommits(path) - commitsBefore, 2, "transactions");
  });
});

Deno.test("a duplicate id within one batch gets the first one's seq", async () => {
  await withStore(async (store, path) => {
    await store.addMember("lobby", "alice");
    const results = await Promise.all([
      store.appendMessage(message("lobby", "alice", "same")),
      store.appendMessage(message("lobby", "alice", "other")),
      store.appendMessage(message("lobby", "alice", "same")),
    ]);
    assertEquals(results, [
      { seq: 1, duplicate: false },
      { seq: 2, duplicate: false },
      { seq: 1, duplicate: true },
    ], "results");
    assertEquals(withReader(path, committedMessages), 2, "stored once");
  });
});

Deno.test("close commits appends still waiting for their turn to end", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chat.db`;
    const store = new SqliteHistoryStore(path);
    let pending;
    try {
      await store.addMember("lobby", "alice");
      pending = store.appendMessage(message("lobby", "alice", "last words"));
    } finally {
      await store.close();
    }
    assertEquals(await pending, { seq: 1, duplicate: false }, "acked");
    assertEquals(withReader(path, committedMessages), 1, "on disk");
  });
});

Deno.test("an append while another writer holds the lock is rejected, not acked", async () => {
  await withStore(async (store, path) => {
    await store.addMember("lobby", "alice");
    const other = new DatabaseSync(path);
    try {
      other.exec("BEGIN IMMEDIATE");
      // The store waits out its busy_timeout (5 s, blocking) and gives up.
      await assertStoreError(
        () => store.appendMessage(message("lobby", "alice", "blocked")),
        "unavailable",
      );
      other.exec("ROLLBACK");
    } finally {
      other.close();
    }
    assertEquals(withReader(path, committedMessages), 0, "nothing stored");
    assertEquals(await store.lastSeq("lobby"), 0, "no seq was consumed");
    const retry = await store.appendMessage(message("lobby", "alice", "again"));
    assertEquals(retry, { seq: 1, duplicate: false }, "retry");
  });
});

Deno.test("an append after close is rejected as unavailable", async () => {
  await withStore(async (store) => {
    await store.addMember("lobby", "alice");
    await store.close();
    await assertStoreError(
      () => store.appendMessage(message("lobby", "alice", "late")),
      "unavailable",
    );
  });
});

Deno.test("an append to a room that does not exist is rejected and stores nothing", async () => {
  await withStore(async (store, path) => {
    await assertStoreError(() =>
      store.appendMessage(message("nowhere", "alice", "lost"))
    );
    assertEquals(withReader(path, committedMessages), 0, "nothing stored");
    assertEquals(await store.listRooms(), [], "no room was created");
  });
});

Deno.test("BUG: one bad append does not make the other appends of its batch fail", async () => {
  await withStore(async (store, path) => {
    await store.addMember("lobby", "alice");
    const [good, bad] = await Promise.allSettled([
      store.appendMessage(message("lobby", "alice", "fine")),
      store.appendMessage(message("nowhere", "alice", "lost")),
    ]);
    assertEquals(bad?.status, "rejected", "the bad append");
    assertEquals(
      good?.status === "fulfilled" ? good.value : String(good?.reason),
      { seq: 1, duplicate: false },
      "the good append in the same turn",
    );
    assertEquals(withReader(path, committedMessages), 1, "the good one stored");
  });
});

Deno.test("history shows a recipient only what they hold a key for, newest first", async () => {
  await withStore(async (store) => {
    await store.addMember("lobby", "alice");
    await store.addMember("dev", "alice");
    await store.saveSenderKey(wraps("lobby", "alice", 1, ["bob"]));
    await store.saveSenderKey(wraps("dev", "alice", 1, ["bob"]));
    for (const id of ["a", "b", "c"]) {
      await store.appendMessage(message("lobby", "alice", id, 1));
    }
    await store.appendMessage(message("dev", "alice", "elsewhere", 1));
    // carol joins; alice rotates and now wraps for carol too
    await store.saveSenderKey(wraps("lobby", "alice", 2, ["bob", "carol"]));
    for (const id of ["d", "e", "f"]) {
      await store.appendMessage(message("lobby", "alice", id, 2));
    }
    const all = await store.history("lobby", "bob", 100, 10);
    assertEquals(seqs(all), [6, 5, 4, 3, 2, 1], "bob sees everything");
    assertEquals(all[5], {
      room: "lobby",
      seq: 1,
      id: "a",
      sender: "alice",
      epoch: 1,
      counter: 7,
      ts: 1_700_000_000_123,
      iv: "iv-a",
      ct: "ct-a",
      sig: "sig-a",
    }, "a stored message");
    assertEquals(
      seqs(await store.history("lobby", "bob", 5, 2)),
      [4, 3],
      "page",
    );
    assertEquals(
      seqs(await store.history("lobby", "carol", 100, 10)),
      [6, 5, 4],
      "carol sees only epoch 2",
    );
    assertEquals(await store.history("lobby", "dave", 100, 10), [], "dave");
  });
});

Deno.test("historyAfter catches a recipient up, oldest first", async () => {
  await withStore(async (store) => {
    await store.addMember("lobby", "alice");
    await store.saveSenderKey(wraps("lobby", "alice", 1, ["bob"]));
    await store.saveSenderKey(wraps("lobby", "alice", 2, ["bob", "carol"]));
    for (const [id, epoch] of [["a", 1], ["b", 1], ["c", 2], ["d", 2]]) {
      await store.appendMessage(message("lobby", "alice", `${id}`, +epoch!));
    }
    assertEquals(
      seqs(await store.historyAfter("lobby", "bob", 1, 2)),
      [2, 3],
      "bob after 1, limit 2",
    );
    assertEquals(
      seqs(await store.historyAfter("lobby", "carol", 0, 10)),
      [3, 4],
      "carol, late joiner",
    );
    assertEquals(await store.historyAfter("lobby", "bob", 4, 10), [], "done");
    assertEquals(await store.historyAfter("lobby", "dave", 0, 10), [], "dave");
  });
});

Deno.test("close checkpoints the WAL and leaves an intact database", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chat.db`;
    const store = new SqliteHistoryStore(path);
    try {
      await store.addMember("lobby", "alice");
      await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) => store.appendMessage(message("lobby", "alice", `m${i}`)),
        ),
      );
      assert(walCommits(path) > 0, "the WAL should hold the commits");
    } finally {
      await store.close();
    }
    const wal = await Deno.stat(`${path}-wal`).catch(() => null);
    assert(wal === null || wal.size === 0, `-wal left with ${wal?.size} bytes`);
    withReader(path, (db) => {
      const check = db.prepare("PRAGMA integrity_check").get();
      assertEquals(check?.integrity_check, "ok", "integrity_check");
      assertEquals(committedMessages(db), 50, "messages in the main file");
    });
  });
});

Deno.test("every read of a closed store raises StoreError(unavailable), none a raw database error", async () => {
  await withTempDir(async (dir) => {
    const store = new SqliteHistoryStore(`${dir}/chat.db`);
    await store.createUser(user("alice"));
    await store.addMember("#r", "alice");
    await store.close();
    const reads: [string, () => Promise<unknown>][] = [
      ["getUser", () => store.getUser("alice")],
      ["getUserBySkeleton", () => store.getUserBySkeleton("alice")],
      ["listRooms", () => store.listRooms()],
      ["latestEpoch", () => store.latestEpoch("#r", "alice")],
      ["getWrap", () => store.getWrap("#r", "alice", 1, "alice")],
      ["findMessageSeq", () => store.findMessageSeq("#r", "alice", "m1")],
      ["history", () => store.history("#r", "alice", 100, 10)],
      ["historyAfter", () => store.historyAfter("#r", "alice", 0, 10)],
      ["lastSeq", () => store.lastSeq("#r")],
      ["firstSeq", () => store.firstSeq("#r")],
      ["getSanction", () => store.getSanction("f".repeat(64), "ban")],
      ["isAllowed", () => store.isAllowed("f".repeat(64))],
      ["getSetting", () => store.getSetting("motd")],
    ];
    for (const [name, read] of reads) {
      let promise: Promise<unknown>;
      try {
        promise = read();
      } catch (error) {
        throw new Error(`${name} threw synchronously: ${error}`);
      }
      const error = await assertStoreError(() => promise, "unavailable");
      assert(
        error.message.includes("failed"),
        `${name}: the message says what failed: ${error.message}`,
      );
    }
  });
});
