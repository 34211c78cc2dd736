/**
 * Reading history from SQLite without a scan proportional to the room:
 * the recipient's readable range (first and last message they hold a key
 * for) comes from two index probes per wrap they hold, a page of wraps
 * per turn, and the range is
 * walked by the primary key in windows of at most HISTORY_WINDOW seqs,
 * yielding to the event loop between windows so one member's request
 * cannot hold up everyone else's frames.
 * @module
 */
import { setImmediate } from "node:timers";
import type { StoredMessage } from "./history_store.ts";
import type { Statements } from "./sqlite_schema.ts";
import { type Row, toMessage } from "./sqlite_rows.ts";

/** Seqs one synchronous query may look at (about 1 ms on a laptop). */
export const HISTORY_WINDOW = 2048;

/** Let other connections' work run before the next window. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Which way a page goes: older than a seq, or newer than one. */
export type HistoryDirection = "before" | "after";

/** One history request: `limit` messages of `room` `recipient` can read beyond `from`. */
export interface HistoryQuery {
  room: string;
  recipient: string;
  direction: HistoryDirection;
  /** Exclusive bound: before this seq, or after it. */
  from: number;
  limit: number;
}

/** Keys (wraps) of a recipient looked at per synchronous step. */
export const KEYS_PER_STEP = 512;

/**
 * The first and last seq `recipient` can read in `room`, or null if none:
 * two index probes per key they hold, KEYS_PER_STEP keys per turn.
 */
export async function readableBounds(
  sql: Statements,
  room: string,
  recipient: string,
  read: <T>(work: () => T) => T,
): Promise<{ lo: number; hi: number } | null> {
  let lo = Infinity, hi = -Infinity;
  let after: [string, number] = ["", -1];
  for (;;) {
    const keys = read(() => {
      const rows = sql.heldKeys.all(
        room,
        recipient,
        after[0],
        after[1],
        KEYS_PER_STEP,
      ) as Row[];
      for (const row of rows) {
        const sender = String(row.sender), epoch = Number(row.epoch);
        const first = sql.firstSeqOfEpoch.get(room, sender, epoch) as
          | Row
          | undefined;
        if (!first) continue;
        const last = sql.lastSeqOfEpoch.get(room, sender, epoch) as Row;
        lo = Math.min(lo, Number(first.seq));
        hi = Math.max(hi, Number(last.seq));
      }
      return rows;
    });
    const end = keys.at(-1);
    if (keys.length < KEYS_PER_STEP || !end) break;
    after = [String(end.sender), Number(end.epoch)];
    await nextTurn();
  }
  return lo === Infinity ? null : { lo, hi };
}

/**
 * The page `query` asks for, newest first for `before` and oldest first for
 * `after`; `read` runs each synchronous query (the store's error wrapper).
 */
export async function readHistory(
  sql: Statements,
  query: HistoryQuery,
  read: <T>(work: () => T) => T,
): Promise<StoredMessage[]> {
  const { room, recipient, limit } = query;
  const bounds = await readableBounds(sql, room, recipient, read);
  if (!bounds || limit <= 0) return [];
  const out: StoredMessage[] = [];
  const before = query.direction === "before";
  // the walk covers only seqs the recipient can possibly read
  let edge = before
    ? Math.min(query.from, bounds.hi + 1)
    : Math.max(query.from, bounds.lo - 1);
  const stop = before ? bounds.lo : bounds.hi;
  while (out.length < limit && (before ? edge > stop : edge < stop)) {
    const next = before
      ? Math.max(stop, edge - HISTORY_WINDOW)
      : Math.min(stop, edge + HISTORY_WINDOW);
    const want = limit - out.length;
    const rows = read(() =>
      before
        ? sql.historyWindow.all(room, edge, next, recipient, want)
        : sql.historyAfterWindow.all(room, edge, next, recipient, want)
    ) as Row[];
    for (const row of rows) out.push(toMessage(row));
    edge = next;
    if (out.length < limit && edge !== stop) await nextTurn();
  }
  return out;
}
