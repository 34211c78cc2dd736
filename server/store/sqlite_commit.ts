/**
 * How the SQLite engine commits: one transaction around synchronous work,
 * the group commit that puts every write queued in one event-loop turn
 * into one transaction (one fsync), and the one mapping of a database
 * failure to StoreError.
 * @module
 */
import { clearImmediate, setImmediate } from "node:timers";
import type { DatabaseSync } from "node:sqlite";
import { StoreError } from "./history_store.ts";

/** A failure of `what` as a StoreError: `conflict` for a constraint, else `unavailable`. */
export function storeError(what: string, cause: unknown): StoreError {
  if (cause instanceof StoreError) return cause;
  const message = (cause as Error).message ?? String(cause);
  const code = /UNIQUE|constraint/i.test(message) ? "conflict" : "unavailable";
  return new StoreError(code, `${what} failed: ${message}`, { cause });
}

/** Run `work` in one immediate transaction: committed, or rolled back and rethrown. */
export function transaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // the failed statement may already have rolled back
    }
    throw error;
  }
}

/** A write waiting for the group commit at the end of this event-loop turn. */
interface QueuedWrite {
  /** What failed, for the error message ("storing the message"). */
  what: string;
  work: () => unknown;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/** Writes queued in one event-loop turn, committed together. */
export class GroupCommit {
  #db: DatabaseSync;
  #queued: QueuedWrite[] = [];
  #flushTimer: ReturnType<typeof setImmediate> | null = null;

  /** Group commits on `db`. */
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Queue a write for the group commit; it settles once committed (or failed). */
  enqueue<T>(what: string, work: () => T): Promise<T> {
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
      this.#flushTimer ??= setImmediate(() => this.flush());
    });
  }

  /**
   * Commit every queued write in one transaction, then settle each promise.
   * Each write runs in its own savepoint, so one bad write fails alone;
   * a failed COMMIT (disk full) fails them all, and none is acknowledged.
   */
  flush(): void {
    if (this.#flushTimer !== null) clearImmediate(this.#flushTimer);
    this.#flushTimer = null;
    const batch = this.#queued;
    this.#queued = [];
    if (batch.length === 0) return;
    let outcomes: ({ ok: unknown } | { error: unknown })[];
    try {
      outcomes = transaction(this.#db, () => batch.map((q) => this.#run(q)));
    } catch (cause) {
      for (const q of batch) q.reject(storeError(q.what, cause));
      return;
    }
    batch.forEach((q, i) => {
      const outcome = outcomes[i]!;
      if ("ok" in outcome) q.resolve(outcome.ok);
      else q.reject(storeError(q.what, outcome.error));
    });
  }

  /** One queued write in its own savepoint. */
  #run(q: QueuedWrite): { ok: unknown } | { error: unknown } {
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
  }
}
