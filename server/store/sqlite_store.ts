/**
 * The embedded SQLite engine of HistoryStore (`node:sqlite`), in WAL mode
 * with synchronous=FULL: a message is on disk before it is acknowledged.
 * Every operation, read or write, goes through one wrapper that turns a
 * database failure into a StoreError (sqlite_moderation.ts's, with the
 * moderation tables); the tables and statements are sqlite_schema.ts's,
 * the group commit sqlite_commit.ts's, history pages sqlite_history.ts's,
 * quotas and retention storage_quota.ts's and retention_sweeper.ts's.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import type {
  AppendResult,
  HistoryStore,
  RoomRecord,
  StoredMessage,
  StoredWrap,
  UserRecord,
} from "./history_store.ts";
import { StoreError } from "./history_store.ts";
import type { ModerationStore } from "./moderation_store.ts";
import { prepareStatements, SCHEMA } from "./sqlite_schema.ts";
import { GroupCommit, storeError } from "./sqlite_commit.ts";
import { type Row, toUser, toWrap } from "./sqlite_rows.ts";
import { SqliteModeration } from "./sqlite_moderation.ts";
import { type HistoryDirection, readHistory } from "./sqlite_history.ts";
import {
  DEFAULT_STORAGE_QUOTAS,
  type StorageQuotas,
  UsageLedger,
} from "./storage_quota.ts";
import { countUsage } from "./sqlite_retention.ts";
import { RetentionSweeper } from "./retention_sweeper.ts";

/** Quotas and retention of a store (both optional: defaults, keep everything). */
export interface StoreOptions {
  /** Per-user and per-room caps on stored messages and wraps. */
  quotas?: StorageQuotas;
  /** Delete messages stored longer ago than this (ms); unset keeps everything. */
  retainMs?: number;
  /** Where the sweeper reports what it deleted. */
  log?: (line: string) => void;
  /** The retention clock (tests move it). */
  now?: () => number;
}

/** The bytes a message counts against a quota, as MESSAGE_BYTES counts them. */
function messageBytes(m: Omit<StoredMessage, "seq">): number {
  return m.id.length + m.iv.length + m.ct.length + m.sig.length;
}

/** Open the database at `path` in WAL mode, tables created if missing. */
function openDatabase(path: string): DatabaseSync {
  try {
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    // node:sqlite is synchronous: a lock wait stalls the whole event loop, so keep it short.
    db.exec("PRAGMA busy_timeout = 250");
    db.exec(SCHEMA);
    return db;
  } catch (cause) {
    throw new StoreError(
      "unavailable",
      `cannot open the database at ${path}: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** HistoryStore (and ModerationStore) on one SQLite file. */
export class SqliteHistoryStore extends SqliteModeration
  implements HistoryStore, ModerationStore {
  #writes: GroupCommit;
  #ledger: UsageLedger;
  #sweeper: RetentionSweeper | null = null;

  /** Open (creating if needed) the database at `path`. */
  constructor(path: string, options: StoreOptions = {}) {
    const db = openDatabase(path);
    super(db, prepareStatements(db));
    this.#writes = new GroupCommit(this.db);
    this.#ledger = new UsageLedger(options.quotas ?? DEFAULT_STORAGE_QUOTAS);
    countUsage(this.sql, this.#ledger);
    if (options.retainMs !== undefined) {
      this.#sweeper = new RetentionSweeper(
        { db: this.db, sql: this.sql, writes: this.#writes },
        this.#ledger,
        {
          retainMs: options.retainMs,
          log: options.log ?? (() => {}),
          ...(options.now ? { now: options.now } : {}),
        },
      );
    }
  }

  /** The quota ledger: what each user and room stores now. */
  get usage(): UsageLedger {
    return this.#ledger;
  }

  /** The retention sweeper, if a retention period is set. */
  get retention(): RetentionSweeper | null {
    return this.#sweeper;
  }

  getUser(userKey: string): Promise<UserRecord | null> {
    return this.run("reading a user", () => {
      const row = this.sql.getUser.get(userKey) as Row | undefined;
      return row ? toUser(row) : null;
    });
  }

  getUserBySkeleton(skeleton: string): Promise<UserRecord | null> {
    return this.run("reading a user", () => {
      const row = this.sql.getUserBySkeleton.get(skeleton) as Row | undefined;
      return row ? toUser(row) : null;
    });
  }

  createUser(user: UserRecord): Promise<void> {
    // registrations share the messages' group commit: a burst of first
    // logins pays one fsync, not one each
    return this.#writes.enqueue("registering the user", () => {
      this.sql.createUser.run(
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
    return this.run("reading rooms", () => {
      const rooms = new Map<string, RoomRecord>();
      for (const row of this.sql.rooms.all() as Row[]) {
        rooms.set(String(row.room), {
          room: String(row.room),
          roster: Number(row.roster),
          lastSeq: Number(row.last_seq),
          members: [],
        });
      }
      for (const row of this.sql.members.all() as Row[]) {
        rooms.get(String(row.room))?.members.push(String(row.user_key));
      }
      return [...rooms.values()];
    });
  }

  addMember(room: string, userKey: string): Promise<number> {
    return this.inTransaction("joining the room", () => {
      this.sql.ensureRoom.run(room);
      const inserted = this.sql.insertMember.run(room, userKey);
      const row = inserted.changes === 0
        ? this.sql.roster.get(room)
        : this.sql.bumpRoster.get(room);
      return Number((row as Row).roster);
    });
  }

  removeMember(room: string, userKey: string): Promise<number> {
    return this.inTransaction("leaving the room", () => {
      const removed = this.sql.deleteMember.run(room, userKey);
      const row = removed.changes === 0
        ? this.sql.roster.get(room)
        : this.sql.bumpRoster.get(room);
      return Number((row as Row | undefined)?.roster ?? 0);
    });
  }

  latestEpoch(room: string, sender: string): Promise<number> {
    return this.run("reading an epoch", () => {
      const row = this.sql.latestEpoch.get(room, sender) as Row | undefined;
      return Number(row?.epoch ?? 0);
    });
  }

  saveSenderKey(wraps: StoredWrap[]): Promise<void> {
    return this.inTransaction("storing the sender key", () => {
      const first = wraps[0];
      if (!first) return;
      const bytes = wraps.reduce((n, w) => n + w.wrap.length + w.sig.length, 0);
      this.#ledger.check("user-wraps", first.sender, wraps.length, bytes);
      this.#ledger.check("room-wraps", first.room, wraps.length, bytes);
      for (const w of wraps) {
        this.sql.insertWrap.run(
          w.room,
          w.sender,
          w.epoch,
          w.recipient,
          w.roster,
          w.wrap,
          w.sig,
        );
      }
      return { sender: first.sender, room: first.room, n: wraps.length, bytes };
    }).then((saved) => {
      // counted once committed: a failed commit stored nothing
      if (!saved) return;
      this.#ledger.add("user-wraps", saved.sender, saved.n, saved.bytes);
      this.#ledger.add("room-wraps", saved.room, saved.n, saved.bytes);
    });
  }

  getWrap(
    room: string,
    sender: string,
    epoch: number,
    recipient: string,
  ): Promise<StoredWrap | null> {
    return this.run("reading a sender key", () => {
      const row = this.sql.getWrap.get(room, sender, epoch, recipient) as
        | Row
        | undefined;
      return row ? toWrap(row) : null;
    });
  }

  appendMessage(message: Omit<StoredMessage, "seq">): Promise<AppendResult> {
    const bytes = messageBytes(message);
    let counted = false;
    return this.#writes.enqueue("storing the message", () => {
      const result = this.#appendOne(message, bytes);
      counted = !result.duplicate;
      return result;
    }).catch((error) => {
      // the commit failed after the append was counted: it was not stored
      if (counted) this.#count(message, -1, -bytes);
      throw error;
    });
  }

  #count(m: { sender: string; room: string }, rows: number, bytes: number) {
    this.#ledger.add("user-messages", m.sender, rows, bytes);
    this.#ledger.add("room-messages", m.room, rows, bytes);
  }

  #appendOne(message: Omit<StoredMessage, "seq">, bytes: number): AppendResult {
    const existing = this.sql.findById.get(
      message.room,
      message.sender,
      message.id,
    ) as Row | undefined;
    if (existing) return { seq: Number(existing.seq), duplicate: true };
    this.#ledger.check("user-messages", message.sender, 1, bytes);
    this.#ledger.check("room-messages", message.room, 1, bytes);
    const row = this.sql.nextSeq.get(message.room) as Row | undefined;
    if (!row) throw new StoreError("conflict", `no room ${message.room}`);
    const seq = Number(row.last_seq);
    this.sql.insertMessage.run(
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
    this.#count(message, 1, bytes);
    return { seq, duplicate: false };
  }

  findMessageSeq(
    room: string,
    sender: string,
    id: string,
  ): Promise<number | null> {
    return this.run("reading a message", () => {
      const row = this.sql.findById.get(room, sender, id) as Row | undefined;
      return row ? Number(row.seq) : null;
    });
  }

  history(
    room: string,
    recipient: string,
    beforeSeq: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    return this.#page("before", room, recipient, beforeSeq, limit);
  }

  historyAfter(
    room: string,
    recipient: string,
    afterSeq: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    return this.#page("after", room, recipient, afterSeq, limit);
  }

  /** A page of history in bounded windows, yielding between them. */
  async #page(
    direction: HistoryDirection,
    room: string,
    recipient: string,
    from: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    const query = { room, recipient, direction, from, limit };
    return await readHistory(this.sql, query, (work) => {
      try {
        return work();
      } catch (cause) {
        throw storeError("reading the history", cause);
      }
    });
  }

  lastSeq(room: string): Promise<number> {
    return this.run("reading the last seq", () => {
      const row = this.sql.lastSeq.get(room) as Row | undefined;
      return Number(row?.last_seq ?? 0);
    });
  }

  firstSeq(room: string): Promise<number> {
    return this.run("reading the first seq", () => {
      const row = this.sql.firstSeq.get(room) as Row | undefined;
      return Number(row?.seq ?? 0);
    });
  }

  async close(): Promise<void> {
    await this.#sweeper?.stop();
    this.#writes.flush();
    if (this.db.isOpen) {
      try {
        this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch {
        // a checkpoint is an optimisation; closing still commits everything
      }
      this.db.close();
    }
  }
}
