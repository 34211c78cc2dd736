/**
 * What the SQLite engine's database looks like: its tables (created if
 * missing on every open) and every statement the store runs, prepared
 * once per connection.
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** The tables and indexes, idempotent: run on every open. */
export const SCHEMA = `
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
CREATE INDEX IF NOT EXISTS messages_by_epoch ON messages (room, sender, epoch, seq);
CREATE INDEX IF NOT EXISTS sender_keys_by_recipient
  ON sender_keys (room, recipient, sender, epoch);
CREATE TABLE IF NOT EXISTS seq_marks (
  room TEXT NOT NULL,
  at INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (room, at)
) WITHOUT ROWID;
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

/** The bytes a stored message counts against a quota (its columns are ASCII). */
const MESSAGE_BYTES = "length(msg_id) + length(iv) + length(ct) + length(sig)";
/** The bytes a stored wrap counts against a quota. */
const WRAP_BYTES = "length(wrap) + length(sig)";

/** Every statement the store runs, by name. */
const SQL = {
  getUser: "SELECT * FROM users WHERE user_key = ?",
  getUserBySkeleton: "SELECT * FROM users WHERE skeleton = ?",
  createUser:
    "INSERT INTO users (user_key, skeleton, name, uid, id_key, enc_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  rooms: "SELECT room, roster, last_seq FROM rooms",
  members: "SELECT room, user_key FROM members",
  ensureRoom:
    "INSERT OR IGNORE INTO rooms (room, roster, last_seq) VALUES (?, 0, 0)",
  insertMember: "INSERT OR IGNORE INTO members (room, user_key) VALUES (?, ?)",
  deleteMember: "DELETE FROM members WHERE room = ? AND user_key = ?",
  bumpRoster:
    "UPDATE rooms SET roster = roster + 1 WHERE room = ? RETURNING roster",
  roster: "SELECT roster FROM rooms WHERE room = ?",
  latestEpoch:
    "SELECT MAX(epoch) AS epoch FROM sender_keys WHERE room = ? AND sender = ?",
  insertWrap:
    "INSERT INTO sender_keys (room, sender, epoch, recipient, roster, wrap, sig) VALUES (?, ?, ?, ?, ?, ?, ?)",
  getWrap:
    "SELECT * FROM sender_keys WHERE room = ? AND sender = ? AND epoch = ? AND recipient = ?",
  findById:
    "SELECT seq FROM messages WHERE room = ? AND sender = ? AND msg_id = ?",
  nextSeq:
    "UPDATE rooms SET last_seq = last_seq + 1 WHERE room = ? RETURNING last_seq",
  insertMessage:
    "INSERT INTO messages (room, seq, msg_id, sender, epoch, counter, ts, iv, ct, sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  // the (sender, epoch) keys a recipient holds, a page at a time (keyset)
  heldKeys: `SELECT sender, epoch FROM sender_keys
         WHERE room = ? AND recipient = ? AND (sender, epoch) > (?, ?)
         ORDER BY sender, epoch LIMIT ?`,
  firstSeqOfEpoch: `SELECT seq FROM messages
         WHERE room = ? AND sender = ? AND epoch = ? ORDER BY seq ASC LIMIT 1`,
  lastSeqOfEpoch: `SELECT seq FROM messages
         WHERE room = ? AND sender = ? AND epoch = ? ORDER BY seq DESC LIMIT 1`,
  // one bounded window of seqs, walked by the primary key (CROSS JOIN keeps
  // messages outermost); the wrap is a primary-key probe per row
  historyWindow: `SELECT m.* FROM messages m CROSS JOIN sender_keys k
         WHERE m.room = ? AND m.seq < ? AND m.seq >= ?
           AND k.room = m.room AND k.sender = m.sender
           AND k.epoch = m.epoch AND k.recipient = ?
         ORDER BY m.seq DESC LIMIT ?`,
  historyAfterWindow: `SELECT m.* FROM messages m CROSS JOIN sender_keys k
         WHERE m.room = ? AND m.seq > ? AND m.seq <= ?
           AND k.room = m.room AND k.sender = m.sender
           AND k.epoch = m.epoch AND k.recipient = ?
         ORDER BY m.seq ASC LIMIT ?`,
  messageUseByUser: `SELECT sender AS key, COUNT(*) AS n,
         SUM(${MESSAGE_BYTES}) AS bytes FROM messages GROUP BY sender`,
  messageUseByRoom: `SELECT room AS key, COUNT(*) AS n,
         SUM(${MESSAGE_BYTES}) AS bytes FROM messages GROUP BY room`,
  wrapUseByUser: `SELECT sender AS key, COUNT(*) AS n,
         SUM(${WRAP_BYTES}) AS bytes FROM sender_keys GROUP BY sender`,
  wrapUseByRoom: `SELECT room AS key, COUNT(*) AS n,
         SUM(${WRAP_BYTES}) AS bytes FROM sender_keys GROUP BY room`,
  markSeqs: `INSERT OR IGNORE INTO seq_marks (room, at, seq)
         SELECT r.room, ?, r.last_seq FROM rooms r WHERE r.last_seq >
           COALESCE((SELECT MAX(s.seq) FROM seq_marks s WHERE s.room = r.room), 0)`,
  retentionCutoffs:
    "SELECT room, MAX(seq) AS seq FROM seq_marks WHERE at <= ? GROUP BY room",
  pruneMessages: `DELETE FROM messages WHERE room = ? AND seq IN
         (SELECT seq FROM messages WHERE room = ? AND seq <= ? ORDER BY seq LIMIT ?)
         RETURNING sender, epoch, ${MESSAGE_BYTES} AS bytes`,
  epochHasMessages:
    "SELECT 1 AS yes FROM messages WHERE room = ? AND sender = ? AND epoch = ? LIMIT 1",
  // an expired epoch and the sender's older ones (their messages, older
  // still, are gone too), at most a bounded number per call
  pruneWraps: `DELETE FROM sender_keys WHERE (room, sender, epoch, recipient) IN
         (SELECT room, sender, epoch, recipient FROM sender_keys
           WHERE room = ? AND sender = ? AND epoch <= ? LIMIT ?)
         RETURNING ${WRAP_BYTES} AS bytes`,
  dropOldMarks: "DELETE FROM seq_marks WHERE at < ?",
  lastSeq: "SELECT last_seq FROM rooms WHERE room = ?",
  firstSeq: "SELECT seq FROM messages WHERE room = ? ORDER BY seq ASC LIMIT 1",
  setSanction:
    "INSERT OR REPLACE INTO sanctions (fingerprint, kind, until, reason, by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
  removeSanction: "DELETE FROM sanctions WHERE fingerprint = ? AND kind = ?",
  getSanction: "SELECT * FROM sanctions WHERE fingerprint = ? AND kind = ?",
  allow:
    "INSERT OR IGNORE INTO allowlist (fingerprint, by, created_at) VALUES (?, ?, ?)",
  isAllowed: "SELECT 1 AS yes FROM allowlist WHERE fingerprint = ?",
  getSetting: "SELECT value FROM settings WHERE key = ?",
  setSetting: "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
  createInvite:
    "INSERT INTO invites (hash, uses_left, expires_at, created_at) VALUES (?, ?, ?, ?)",
  getInvite: "SELECT uses_left, expires_at FROM invites WHERE hash = ?",
  useInvite: "UPDATE invites SET uses_left = uses_left - 1 WHERE hash = ?",
  restoreInvite: "UPDATE invites SET uses_left = uses_left + 1 WHERE hash = ?",
} as const;

/** The store's prepared statements, one per entry of SQL. */
export type Statements = { readonly [K in keyof typeof SQL]: StatementSync };

/** Prepare every statement on `db` (whose tables exist). */
export function prepareStatements(db: DatabaseSync): Statements {
  const prepared = Object.entries(SQL).map(([name, sql]) => [
    name,
    db.prepare(sql),
  ]);
  return Object.fromEntries(prepared) as Statements;
}
