/**
 * Retention and usage on SQLite: counting what each user and room stores
 * (at open), and deleting messages older than the retention period with
 * the wraps nothing needs any more. Messages go oldest first, in batches,
 * so the room's stored seqs stay one unbroken run and `firstSeq` is the
 * oldest stored. Age is the server's clock, not the sender's `ts`: each
 * sweep marks every room's last seq with the time (`seq_marks`), and a
 * message is old once a mark older than the cut-off covers its seq.
 * @module
 */
import type { Statements } from "./sqlite_schema.ts";
import type { Row } from "./sqlite_rows.ts";
import type { QuotaKind, UsageLedger } from "./storage_quota.ts";

/** Count every user's and room's stored messages and wraps into `ledger`. */
export function countUsage(sql: Statements, ledger: UsageLedger): void {
  const tally: [QuotaKind, keyof Statements][] = [
    ["user-messages", "messageUseByUser"],
    ["room-messages", "messageUseByRoom"],
    ["user-wraps", "wrapUseByUser"],
    ["room-wraps", "wrapUseByRoom"],
  ];
  for (const [kind, statement] of tally) {
    for (const row of sql[statement].all() as Row[]) {
      ledger.add(kind, String(row.key), Number(row.n), Number(row.bytes));
    }
  }
}

/** Record every room's last seq as stored by `at` (rooms with new messages only). */
export function markSeqs(sql: Statements, at: number): void {
  sql.markSeqs.run(at);
}

/** A deleted row's owner and size, to give back to the ledger. */
interface Freed {
  kind: QuotaKind;
  key: string;
  bytes: number;
}

/**
 * Delete up to `batch` messages stored before `cutoff` (and the wraps of
 * their epochs once no message and no newer key needs them); returns what
 * was freed, for the ledger. Synchronous: run it inside one transaction.
 */
export function pruneBatch(
  sql: Statements,
  cutoff: number,
  batch: number,
): Freed[] {
  const freed: Freed[] = [];
  for (const mark of sql.retentionCutoffs.all(cutoff) as Row[]) {
    const room = String(mark.room);
    const left = batch - freed.length;
    if (left <= 0) break;
    const gone = sql.pruneMessages.all(room, room, Number(mark.seq), left);
    const epochs = new Map<string, { sender: string; epoch: number }>();
    for (const row of gone as Row[]) {
      const sender = String(row.sender), epoch = Number(row.epoch);
      const bytes = Number(row.bytes);
      freed.push({ kind: "user-messages", key: sender, bytes });
      freed.push({ kind: "room-messages", key: room, bytes });
      epochs.set(`${sender}\u0000${epoch}`, { sender, epoch });
    }
    for (const { sender, epoch } of epochs.values()) {
      freed.push(...pruneWraps(sql, room, sender, epoch));
    }
  }
  return freed;
}

/** Wraps deleted per expired epoch at most (older epochs' leftovers go later). */
const WRAPS_PER_EPOCH = 5000;

/**
 * Delete the wraps of (room, sender, epoch) and of the sender's older
 * epochs, if no message of it is left and the sender has a newer key.
 */
function pruneWraps(
  sql: Statements,
  room: string,
  sender: string,
  epoch: number,
): Freed[] {
  if (sql.epochHasMessages.get(room, sender, epoch)) return [];
  const latest = sql.latestEpoch.get(room, sender) as Row | undefined;
  // the sender's current key: their next message needs it
  if (Number(latest?.epoch ?? 0) <= epoch) return [];
  return (sql.pruneWraps.all(room, sender, epoch, WRAPS_PER_EPOCH) as Row[])
    .flatMap((row) => [
      { kind: "user-wraps", key: sender, bytes: Number(row.bytes) },
      { kind: "room-wraps", key: room, bytes: Number(row.bytes) },
    ]);
}

/** Give `freed` back to `ledger` (or take it again with sign -1). */
export function release(ledger: UsageLedger, freed: Freed[], sign = 1): void {
  for (const f of freed) ledger.add(f.kind, f.key, -sign, -sign * f.bytes);
}

/** Drop marks older than `cutoff`: every seq they covered is gone. */
export function dropOldMarks(sql: Statements, cutoff: number): void {
  sql.dropOldMarks.run(cutoff);
}
