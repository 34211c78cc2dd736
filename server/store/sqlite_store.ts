/**
 * The embedded SQLite engine of HistoryStore (`node:sqlite`), in WAL mode
 * with synchronous=FULL: a message is on disk before it is acknowledged.
 * @module
 */
import { clearImmediate, setImmediate } from "node:timers";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type {
  AppendResult,
  HistoryStore,
  RoomRecord,
  StoredMessage,
  StoredWrap,
  UserRecord,
} from "./history_store.ts";
import { StoreError } from "./history_store.ts";
import type {
  InviteRedemption,
  ModerationStore,
  Sanction,
} from "./moderation_store.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  user_key TEXT PRIMARY KEY,
  skeleton TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  uid TEXT NOT NULL,
  id_key BLOB NOT NULL,
  enc_key BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rooms (
  room TEXT PRIMARY KEY,
  roster INTEGER NOT NULL,
  last_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
  room TEXT NOT NULL,
  user_key TEXT NOT NULL,
  PRIMARY KEY (room, user_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sender_keys (
  room TEXT NOT NULL,
  sender TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  recipient TEXT NOT NULL,
  roster INTEGER NOT NULL,
  wrap TEXT NOT NULL,
  sig TEXT NOT NULL,
  PRIMARY KEY (room, sender, epoch, recipient)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
  room TEXT NOT NULL,
  seq INTEGER NOT NULL,
  msg_id TEXT NOT NULL,
  sender TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  counter INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  iv TEXT NOT NULL,
  ct TEXT NOT NULL,
  sig TEXT NOT NULL,
  PRIMARY KEY (room, seq)
) WITHOUT ROWID;
DROP INDEX IF EXISTS messages_by_sender_id;
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_id ON messages (room, sender, msg_id);
CREATE TABLE IF NOT EXISTS sanctions (
  fingerprint TEXT NOT NULL,
  kind TEXT NOT NULL,
  until INTEGER,
  reason TEXT NOT NULL,
  by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (fingerprint, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS allowlist (
  fingerprint TEXT PRIMARY KEY,
  by TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS invites (
  hash TEXT PRIMARY KEY,
  uses_left INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

type Row = Record<string, unknown>;

/** A write waiting for the group commit at the end of this event-loop turn. */
interface QueuedWrite {
  /** What failed, for the error message ("storing the message"). */
  what: string;
  work: () => unknown;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/** HistoryStore (and ModerationStore) on one SQLite file. */
export class SqliteHistoryStore implements HistoryStore, ModerationStore {
  #db: DatabaseSync;
  #stmts: Record<string, StatementSync>;
  #queued: QueuedWrite[] = [];
  #flushTimer: ReturnType<typeof setImmediate> | null = null;

  /** Open (creating if needed) the database at `path`. */
  constructor(path: string) {
    try {
      this.#db = new DatabaseSync(path);
      this.#db.exec("PRAGMA journal_mode = WAL");
      this.#db.exec("PRAGMA synchronous = FULL");
      // node:sqlite is synchronous: a lock wait stalls the whole event loop, so keep it short.
      this.#db.exec("PRAGMA busy_timeout = 250");
      this.#db.exec(SCHEMA);
    } catch (cause) {
      throw new StoreError(
        "unavailable",
        `cannot open the database at ${path}: ${(cause as Error).message}`,
        { cause },
      );
    }
    const db = this.#db;
    this.#stmts = {
      getUser: db.prepare("SELECT * FROM users WHERE user_key = ?"),
      getUserBySkeleton: db.prepare("SELECT * FROM users WHERE skeleton = ?"),
      createUser: db.prepare(
        "INSERT INTO users (user_key, skeleton, name, uid, id_key, enc_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      rooms: db.prepare("SELECT room, roster, last_seq FROM rooms"),
      members: db.prepare("SELECT room, user_key FROM members"),
      ensureRoom: db.prepare(
        "INSERT OR IGNORE INTO rooms (room, roster, last_seq) VALUES (?, 0, 0)",
      ),
      insertMember: db.prepare(
        "INSERT OR IGNORE INTO members (room, user_key) VALUES (?, ?)",
      ),
      deleteMember: db.prepare(
        "DELETE FROM members WHERE room = ? AND user_key = ?",
      ),
      bumpRoster: db.prepare(
        "UPDATE rooms SET roster = roster + 1 WHERE room = ? RETURNING roster",
      ),
      roster: db.prepare("SELECT roster FROM rooms WHERE room = ?"),
      latestEpoch: db.prepare(
        "SELECT MAX(epoch) AS epoch FROM sender_keys WHERE room = ? AND sender = ?",
      ),
      insertWrap: db.prepare(
        "INSERT INTO sender_keys (room, sender, epoch, recipient, roster, wrap, sig) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      getWrap: db.prepare(
        "SELECT * FROM sender_keys WHERE room = ? AND sender = ? AND epoch = ? AND recipient = ?",
      ),
      findById: db.prepare(
        "SELECT seq FROM messages WHERE room = ? AND sender = ? AND msg_id = ?",
      ),
      nextSeq: db.prepare(
        "UPDATE rooms SET last_seq = last_seq + 1 WHERE room = ? RETURNING last_seq",
      ),
      insertMessage: db.prepare(
        "INSERT INTO messages (room, seq, msg_id, sender, epoch, counter, ts, iv, ct, sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      history: db.prepare(
        `SELECT m.* FROM messages m
         JOIN sender_keys k ON k.room = m.room AND k.sender = m.sender
           AND k.epoch = m.epoch AND k.recipient = ?
         WHERE m.room = ? AND m.seq < ?
         ORDER BY m.seq DESC LIMIT ?`,
      ),
      historyAfter: db.prepare(
        `SELECT m.* FROM messages m
         JOIN sender_keys k ON k.room = m.room AND k.sender = m.sender
           AND k.epoch = m.epoch AND k.recipient = ?
         WHERE m.room = ? AND m.seq > ?
         ORDER BY m.seq ASC LIMIT ?`,
      ),
      lastSeq: db.prepare("SELECT last_seq FROM rooms WHERE room = ?"),
      firstSeq: db.prepare(
        "SELECT seq FROM messages WHERE room = ? ORDER BY seq ASC LIMIT 1",
      ),
      setSanction: db.prepare(
        "INSERT OR REPLACE INTO sanctions (fingerprint, kind, until, reason, by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      removeSanction: db.prepare(
        "DELETE FROM sanctions WHERE fingerprint = ? AND kind = ?",
      ),
      getSanction: db.prepare(
        "SELECT * FROM sanctions WHERE fingerprint = ? AND kind = ?",
      ),
      allow: db.prepare(
        "INSERT OR IGNORE INTO allowlist (fingerprint, by, created_at) VALUES (?, ?, ?)",
      ),
      isAllowed: db.prepare(
        "SELECT 1 AS yes FROM allowlist WHERE fingerprint = ?",
      ),
      getSetting: db.prepare("SELECT value FROM settings WHERE key = ?"),
      setSetting: db.prepare(
        "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
      ),
      createInvite: db.prepare(
        "INSERT INTO invites (hash, uses_left, expires_at, created_at) VALUES (?, ?, ?, ?)",
      ),
      getInvite: db.prepare(
        "SELECT uses_left, expires_at FROM invites WHERE hash = ?",
      ),
      useInvite: db.prepare(
        "UPDATE invites SET uses_left = uses_left - 1 WHERE hash = ?",
      ),
      restoreInvite: db.prepare(
        "UPDATE invites SET uses_left = uses_left + 1 WHERE hash = ?",
      ),
    };
  }

  #stmt(name: string): StatementSync {
    return this.#stmts[name]!;
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      try {
        this.#db.exec("ROLLBACK");
      } catch {
        // the failed statement may already have rolled back
      }
      throw error;
    }
  }

  #storeError(what: string, cause: unknown): StoreError {
    if (cause instanceof StoreError) return cause;
    const message = (cause as Error).message ?? String(cause);
    const code = /UNIQUE|constraint/i.test(message)
      ? "conflict"
      : "unavailable";
    return new StoreError(code, `${what} failed: ${message}`, { cause });
  }

  /** Run synchronous database work as a promise; failures become rejected StoreErrors. */
  #run<T>(what: string, work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (cause) {
      return Promise.reject(this.#storeError(what, cause));
    }
  }

  getUser(userKey: string): Promise<UserRecord | null> {
    return this.#run("reading a user", () => {
      const row = this.#stmt("getUser").get(userKey) as Row | undefined;
      return row ? toUser(row) : null;
    });
  }

  getUserBySkeleton(skeleton: string): Promise<UserRecord | null> {
    return this.#run("reading a user", () => {
      const row = this.#stmt("getUserBySkeleton").get(skeleton) as
        | Row
        | undefined;
      return row ? toUser(row) : null;
    });
  }

  createUser(user: UserRecord): Promise<void> {
    // registrations share the messages' group commit: a burst of first
    // logins pays one fsync, not one each
    return this.#enqueue("registering the user", () => {
      this.#stmt("createUser").run(
        user.userKey,
        user.skeleton,
        user.name,
        user.uid,
        user.idKey,
        user.encKey,
        user.createdAt,
      );
    });
  }

  listRooms(): Promise<RoomRecord[]> {
    return this.#run("reading rooms", () => {
      const rooms = new Map<string, RoomRecord>();
      for (const row of this.#stmt("rooms").all() as Row[]) {
        rooms.set(String(row.room), {
          room: String(row.room),
          roster: Number(row.roster),
          lastSeq: Number(row.last_seq),
          members: [],
        });
      }
      for (const row of this.#stmt("members").all() as Row[]) {
        rooms.get(String(row.room))?.members.push(String(row.user_key));
      }
      return [...rooms.values()];
    });
  }

  addMember(room: string, userKey: string): Promise<number> {
    return this.#run("joining the room", () =>
      this.#transaction(() => {
        this.#stmt("ensureRoom").run(room);
        const inserted = this.#stmt("insertMember").run(room, userKey);
        const row = inserted.changes === 0
          ? this.#stmt("roster").get(room)
          : this.#stmt("bumpRoster").get(room);
        return Number((row as Row).roster);
      }));
  }

  removeMember(room: string, userKey: string): Promise<number> {
    return this.#run("leaving the room", () =>
      this.#transaction(() => {
        const removed = this.#stmt("deleteMember").run(room, userKey);
        const row = removed.changes === 0
          ? this.#stmt("roster").get(room)
          : this.#stmt("bumpRoster").get(room);
        return Number((row as Row | undefined)?.roster ?? 0);
      }));
  }

  latestEpoch(room: string, sender: string): Promise<number> {
    return this.#run("reading an epoch", () => {
      const row = this.#stmt("latestEpoch").get(room, sender) as
        | Row
        | undefined;
      return Number(row?.epoch ?? 0);
    });
  }

  saveSenderKey(wraps: StoredWrap[]): Promise<void> {
    return this.#run("storing the sender key", () =>
      this.#transaction(() => {
        const insert = this.#stmt("insertWrap");
        for (const w of wraps) {
          insert.run(
            w.room,
            w.sender,
            w.epoch,
            w.recipient,
            w.roster,
            w.wrap,
            w.sig,
          );
        }
      }));
  }

  getWrap(
    room: string,
    sender: string,
    epoch: number,
    recipient: string,
  ): Promise<StoredWrap | null> {
    return this.#run("reading a sender key", () => {
      const row = this.#stmt("getWrap").get(room, sender, epoch, recipient) as
        | Row
        | undefined;
      if (!row) return null;
      return {
        room: String(row.room),
        sender: String(row.sender),
        epoch: Number(row.epoch),
        roster: Number(row.roster),
        recipient: String(row.recipient),
        wrap: String(row.wrap),
        sig: String(row.sig),
      };
    });
  }

  appendMessage(message: Omit<StoredMessage, "seq">): Promise<AppendResult> {
    return this.#enqueue("storing the message", () => this.#appendOne(message));
  }

  /** Queue a write for the group commit; it settles once committed (or failed). */
  #enqueue<T>(what: string, work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queued.push({
        what,
        work,
        resolve: resolve as (result: unknown) => void,
        reject,
      });
      // Everything queued in this event-loop turn is committed together,
      // right after the turn's I/O (setImmediate: setTimeout(0) waits ~2 ms
      // in Deno 2.9, and every message would wait with it).
      this.#flushTimer ??= setImmediate(() => this.#flushWrites());
    });
  }

  /**
   * Commit every queued write in one transaction, then settle each promise.
   * Each write runs in its own savepoint, so one bad write fails alone;
   * a failed COMMIT (disk full) fails them all, and none is acknowledged.
   */
  #flushWrites(): void {
    if (this.#flushTimer !== null) clearImmediate(this.#flushTimer);
    this.#flushTimer = null;
    const batch = this.#queued;
    this.#queued = [];
    if (batch.length === 0) return;
    let outcomes: ({ ok: unknown } | { error: unknown })[];
    try {
      outcomes = this.#transaction(() =>
        batch.map((q) => {
          this.#db.exec("SAVEPOINT write");
          try {
            const ok = q.work();
            this.#db.exec("RELEASE write");
            return { ok };
          } catch (error) {
            this.#db.exec("ROLLBACK TO write");
            this.#db.exec("RELEASE write");
            return { error };
          }
        })
      );
    } catch (cause) {
      for (const q of batch) q.reject(this.#storeError(q.what, cause));
      return;
    }
    batch.forEach((q, i) => {
      const outcome = outcomes[i]!;
      if ("ok" in outcome) q.resolve(outcome.ok);
      else q.reject(this.#storeError(q.what, outcome.error));
    });
  }

  #appendOne(message: Omit<StoredMessage, "seq">): AppendResult {
    const existing = this.#stmt("findById").get(
      message.room,
      message.sender,
      message.id,
    ) as Row | undefined;
    if (existing) return { seq: Number(existing.seq), duplicate: true };
    const row = this.#stmt("nextSeq").get(message.room) as Row | undefined;
    if (!row) throw new StoreError("conflict", `no room ${message.room}`);
    const seq = Number(row.last_seq);
    this.#stmt("insertMessage").run(
      message.room,
      seq,
      message.id,
      message.sender,
      message.epoch,
      message.counter,
      message.ts,
      message.iv,
      message.ct,
      message.sig,
    );
    return { seq, duplicate: false };
  }

  findMessageSeq(
    room: string,
    sender: string,
    id: string,
  ): Promise<number | null> {
    const row = this.#stmt("findById").get(room, sender, id) as Row | undefined;
    return Promise.resolve(row ? Number(row.seq) : null);
  }

  history(
    room: string,
    recipient: string,
    beforeSeq: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    const rows = this.#stmt("history").all(
      recipient,
      room,
      beforeSeq,
      limit,
    ) as Row[];
    return Promise.resolve(rows.map(toMessage));
  }

  historyAfter(
    room: string,
    recipient: string,
    afterSeq: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    const rows = this.#stmt("historyAfter").all(
      recipient,
      room,
      afterSeq,
      limit,
    ) as Row[];
    return Promise.resolve(rows.map(toMessage));
  }

  lastSeq(room: string): Promise<number> {
    const row = this.#stmt("lastSeq").get(room) as Row | undefined;
    return Promise.resolve(Number(row?.last_seq ?? 0));
  }

  firstSeq(room: string): Promise<number> {
    const row = this.#stmt("firstSeq").get(room) as Row | undefined;
    return Promise.resolve(Number(row?.seq ?? 0));
  }

  setSanction(s: Sanction): Promise<void> {
    return this.#run("storing a sanction", () => {
      this.#stmt("setSanction").run(
        s.fingerprint,
        s.kind,
        s.until,
        s.reason,
        s.by,
        s.createdAt,
      );
    });
  }

  removeSanction(fingerprint: string, kind: "ban" | "mute"): Promise<boolean> {
    return this.#run(
      "lifting a sanction",
      () => this.#stmt("removeSanction").run(fingerprint, kind).changes > 0,
    );
  }

  getSanction(
    fingerprint: string,
    kind: "ban" | "mute",
  ): Promise<Sanction | null> {
    return this.#run("reading a sanction", () => {
      const row = this.#stmt("getSanction").get(fingerprint, kind) as
        | Row
        | undefined;
      if (!row) return null;
      return {
        fingerprint: String(row.fingerprint),
        kind: row.kind === "ban" ? "ban" : "mute",
        until: row.until === null ? null : Number(row.until),
        reason: String(row.reason),
        by: String(row.by),
        createdAt: Number(row.created_at),
      };
    });
  }

  allow(fingerprint: string, by: string, at: number): Promise<void> {
    return this.#run("allowing a key", () => {
      this.#stmt("allow").run(fingerprint, by, at);
    });
  }

  isAllowed(fingerprint: string): Promise<boolean> {
    return this.#run(
      "reading the allowlist",
      () => !!this.#stmt("isAllowed").get(fingerprint),
    );
  }

  getSetting(key: string): Promise<string | null> {
    return this.#run("reading a setting", () => {
      const row = this.#stmt("getSetting").get(key) as Row | undefined;
      return row ? String(row.value) : null;
    });
  }

  setSetting(key: string, value: string): Promise<void> {
    return this.#run("storing a setting", () => {
      this.#stmt("setSetting").run(key, value);
    });
  }

  createInvite(
    hash: string,
    uses: number,
    expiresAt: number,
    createdAt: number,
  ): Promise<void> {
    return this.#run("storing an invite", () => {
      this.#stmt("createInvite").run(hash, uses, expiresAt, createdAt);
    });
  }

  redeemInvite(hash: string, now: number): Promise<InviteRedemption> {
    return this.#run(
      "redeeming an invite",
      () =>
        this.#transaction((): InviteRedemption => {
          const row = this.#stmt("getInvite").get(hash) as Row | undefined;
          if (!row) return "unknown";
          if (Number(row.expires_at) <= now) return "expired";
          if (Number(row.uses_left) <= 0) return "used";
          this.#stmt("useInvite").run(hash);
          return "ok";
        }),
    );
  }

  restoreInvite(hash: string): Promise<void> {
    return this.#run("restoring an invite", () => {
      this.#stmt("restoreInvite").run(hash);
    });
  }

  close(): Promise<void> {
    this.#flushWrites();
    if (this.#db.isOpen) {
      try {
        this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch {
        // a checkpoint is an optimisation; closing still commits everything
      }
      this.#db.close();
    }
    return Promise.resolve();
  }
}

function toUser(row: Row): UserRecord {
  return {
    userKey: String(row.user_key),
    skeleton: String(row.skeleton),
    name: String(row.name),
    uid: String(row.uid),
    idKey: new Uint8Array(row.id_key as Uint8Array),
    encKey: new Uint8Array(row.enc_key as Uint8Array),
    createdAt: Number(row.created_at),
  };
}

function toMessage(row: Row): StoredMessage {
  return {
    room: String(row.room),
    seq: Number(row.seq),
    id: String(row.msg_id),
    sender: String(row.sender),
    epoch: Number(row.epoch),
    counter: Number(row.counter),
    ts: Number(row.ts),
    iv: String(row.iv),
    ct: String(row.ct),
    sig: String(row.sig),
  };
}
