/**
 * Storage quotas: how many rows and bytes of messages and sender-key wraps
 * one user, and one room, may keep on the server, the ledger that counts
 * them (rebuilt from the database at open, kept in memory after), and the
 * QuotaError a write over a cap fails with. Pure bookkeeping: no SQL.
 * @module
 */
import { StoreError } from "./history_store.ts";

/** A cap on stored rows and on their bytes (ciphertext, signatures, ids). */
export interface QuotaLimit {
  rows: number;
  bytes: number;
}

/** What is counted: a user's or a room's messages or wraps. */
export type QuotaKind =
  | "user-messages"
  | "user-wraps"
  | "room-messages"
  | "room-wraps";

/** Every cap, by kind. */
export type StorageQuotas = Readonly<Record<QuotaKind, QuotaLimit>>;

const MiB = 1024 * 1024;

/**
 * The defaults: far above what a person chats (a million messages of a
 * user, ten million in a room), low enough that one account cannot fill a
 * disk (512 MiB of messages, 256 MiB of wraps per user).
 */
export const DEFAULT_STORAGE_QUOTAS: StorageQuotas = {
  "user-messages": { rows: 1_000_000, bytes: 512 * MiB },
  "user-wraps": { rows: 1_000_000, bytes: 256 * MiB },
  "room-messages": { rows: 10_000_000, bytes: 4096 * MiB },
  "room-wraps": { rows: 5_000_000, bytes: 2048 * MiB },
};

/** What the error names, by kind. */
const WHAT: Record<QuotaKind, string> = {
  "user-messages": "your stored messages",
  "user-wraps": "your stored sender keys",
  "room-messages": "this room's stored messages",
  "room-wraps": "this room's stored sender keys",
};

/** Bytes as the error shows them: `512 MiB`, `900 bytes`. */
function bytesText(n: number): string {
  return n >= MiB && n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`;
}

/** A write would take a user or a room over a storage quota (code `quota_exceeded`). */
export class QuotaError extends StoreError {
  /** Which quota was hit. */
  readonly kind: QuotaKind;
  /** Create the error for `kind` and its limit. */
  constructor(kind: QuotaKind, limit: QuotaLimit) {
    super(
      "quota_exceeded",
      `${WHAT[kind]} reached the server's ${kind} quota (${limit.rows} rows, ${
        bytesText(limit.bytes)
      }); this was NOT stored or delivered`,
    );
    this.name = "QuotaError";
    this.kind = kind;
  }
}

/** Rows and bytes in use. */
interface Usage {
  rows: number;
  bytes: number;
}

/** Rows and bytes in use per user and per room, checked against the quotas. */
export class UsageLedger {
  readonly quotas: StorageQuotas;
  #usage = new Map<string, Usage>();

  /** A ledger for `quotas`, empty until counted. */
  constructor(quotas: StorageQuotas) {
    this.quotas = quotas;
  }

  /** Rows and bytes `key` (a user or room key) uses of `kind`. */
  usage(kind: QuotaKind, key: string): Usage {
    return this.#usage.get(`${kind}\u0000${key}`) ?? { rows: 0, bytes: 0 };
  }

  /** Throw QuotaError if adding `rows` and `bytes` would pass `kind`'s cap. */
  check(kind: QuotaKind, key: string, rows: number, bytes: number): void {
    const used = this.usage(kind, key);
    const limit = this.quotas[kind];
    if (used.rows + rows > limit.rows || used.bytes + bytes > limit.bytes) {
      throw new QuotaError(kind, limit);
    }
  }

  /** Count `rows` and `bytes` (negative when deleted) for `key`. */
  add(kind: QuotaKind, key: string, rows: number, bytes: number): void {
    const id = `${kind}\u0000${key}`;
    const used = this.#usage.get(id) ?? { rows: 0, bytes: 0 };
    used.rows += rows;
    used.bytes += bytes;
    if (used.rows <= 0) this.#usage.delete(id);
    else this.#usage.set(id, used);
  }
}
