/**
 * Rows of the SQLite engine's tables as the store's records: each column
 * read back as the type the interface promises (`node:sqlite` returns
 * numbers, strings, bigints and Uint8Arrays as it sees fit).
 * @module
 */
import type { StoredMessage, StoredWrap, UserRecord } from "./history_store.ts";
import type { Sanction } from "./moderation_store.ts";

/** One row as `node:sqlite` returns it. */
export type Row = Record<string, unknown>;

/** A `users` row. */
export function toUser(row: Row): UserRecord {
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

/** A `messages` row. */
export function toMessage(row: Row): StoredMessage {
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

/** A `sender_keys` row. */
export function toWrap(row: Row): StoredWrap {
  return {
    room: String(row.room),
    sender: String(row.sender),
    epoch: Number(row.epoch),
    roster: Number(row.roster),
    recipient: String(row.recipient),
    wrap: String(row.wrap),
    sig: String(row.sig),
  };
}

/** A `sanctions` row. */
export function toSanction(row: Row): Sanction {
  return {
    fingerprint: String(row.fingerprint),
    kind: row.kind === "ban" ? "ban" : "mute",
    until: row.until === null ? null : Number(row.until),
    reason: String(row.reason),
    by: String(row.by),
    createdAt: Number(row.created_at),
  };
}
