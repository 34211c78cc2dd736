/**
 * The retention sweeper (`chat serve --retain 90d`): every few minutes it
 * marks each room's last seq with the time, then deletes what is older
 * than the retention period in small batches, each its own turn of the
 * group commit, yielding in between so chatting never waits for it.
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { GroupCommit } from "./sqlite_commit.ts";
import type { Statements } from "./sqlite_schema.ts";
import { nextTurn } from "./sqlite_history.ts";
import {
  dropOldMarks,
  markSeqs,
  pruneBatch,
  release,
} from "./sqlite_retention.ts";
import type { UsageLedger } from "./storage_quota.ts";

/** The database parts the sweeper works on (the store's own). */
export interface SweptDatabase {
  db: DatabaseSync;
  sql: Statements;
  writes: GroupCommit;
}

/** How the sweeper runs. */
export interface SweeperOptions {
  /** Messages stored longer ago than this go. */
  retainMs: number;
  log: (line: string) => void;
  /** Messages deleted per batch (default 500). */
  batch?: number;
  /** Time between sweeps (default a twentieth of retainMs, 1 s to 10 min). */
  intervalMs?: number;
  /** The clock (tests move it). */
  now?: () => number;
}

/** Rows deleted per batch by default: about a millisecond of work. */
export const RETENTION_BATCH = 500;

/** Deletes expired messages and unneeded wraps, in batches, on a timer. */
export class RetentionSweeper {
  #db: SweptDatabase;
  #ledger: UsageLedger;
  #options: Required<SweeperOptions>;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running: Promise<number> | null = null;
  #stopped = false;

  /** Start sweeping `db` now and every interval after. */
  constructor(db: SweptDatabase, ledger: UsageLedger, options: SweeperOptions) {
    this.#db = db;
    this.#ledger = ledger;
    this.#options = {
      batch: RETENTION_BATCH,
      intervalMs: Math.min(600_000, Math.max(1000, options.retainMs / 20)),
      now: Date.now,
      ...options,
    };
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.sweep().catch((error) =>
        this.#options.log(`retention sweep failed: ${error.message}`)
      ).finally(() => this.#schedule(this.#options.intervalMs));
    }, ms);
  }

  /**
   * Mark the rooms' seqs, then delete in batches until nothing older than
   * the retention period is left; resolves the number of rows deleted.
   * A sweep already running is joined, not doubled.
   */
  sweep(): Promise<number> {
    this.#running ??= this.#sweepOnce().finally(() => this.#running = null);
    return this.#running;
  }

  async #sweepOnce(): Promise<number> {
    const { sql, writes, db } = this.#db;
    const now = this.#options.now();
    const cutoff = now - this.#options.retainMs;
    await writes.enqueue("marking seqs", () => markSeqs(sql, now));
    let deleted = 0;
    while (!this.#stopped && db.isOpen) {
      const freed = await writes.enqueue(
        "deleting old messages",
        () => pruneBatch(sql, cutoff, this.#options.batch),
      );
      release(this.#ledger, freed);
      deleted += freed.length / 2; // each row frees a user's and a room's share
      if (freed.length === 0) break;
      await nextTurn();
    }
    if (!this.#stopped && db.isOpen) {
      await writes.enqueue(
        "dropping old marks",
        () => dropOldMarks(sql, cutoff),
      );
    }
    if (deleted > 0) {
      this.#options.log(
        `retention: deleted ${deleted} rows stored before ${
          new Date(cutoff).toISOString()
        }`,
      );
    }
    return deleted;
  }

  /** Stop the timer and wait for a sweep under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => 0);
  }
}
