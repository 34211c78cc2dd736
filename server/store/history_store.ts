/**
 * The storage interface the server talks to. One implementation per engine
 * (embedded SQLite today); sessions and rooms never see SQL. Every method
 * holds only public keys, ciphertext and signed metadata: the server has no
 * plaintext to store.
 * @module
 */
import type { MessageEnvelope } from "../../shared/frame_types.ts";

/** A registered user: the first key to claim a name owns it. */
export interface UserRecord {
  /** Case-folded name: the registry key. */
  userKey: string;
  /** Look-alike skeleton; unique across users. */
  skeleton: string;
  /** The name as first registered (display form). */
  name: string;
  uid: string;
  idKey: Uint8Array;
  encKey: Uint8Array;
  createdAt: number;
}

/** A room as loaded at start-up. */
export interface RoomRecord {
  room: string;
  roster: number;
  lastSeq: number;
  /** User keys of the members. */
  members: string[];
}

/** One sender-key wrap for one recipient. */
export interface StoredWrap {
  room: string;
  sender: string;
  epoch: number;
  roster: number;
  recipient: string;
  wrap: string;
  sig: string;
}

/** A message envelope as stored (all binary fields base64url, as on the wire). */
export interface StoredMessage extends MessageEnvelope {
  seq: number;
  id: string;
  sender: string;
}

/** The result of appending: the sequence number, and whether the id was seen before. */
export interface AppendResult {
  seq: number;
  duplicate: boolean;
}

/** Where the server keeps users, rooms, sender keys and message envelopes. */
export interface HistoryStore {
  /** Find a user by case-folded name. */
  getUser(userKey: string): Promise<UserRecord | null>;
  /** Find a user whose name looks like `skeleton`. */
  getUserBySkeleton(skeleton: string): Promise<UserRecord | null>;
  /** Register a new user; throws StoreError if the name or skeleton is taken. */
  createUser(user: UserRecord): Promise<void>;
  /** Every room with its members. */
  listRooms(): Promise<RoomRecord[]>;
  /** Add a member (creating the room if needed); returns the new roster version. */
  addMember(room: string, userKey: string): Promise<number>;
  /** Remove a member; returns the new roster version. */
  removeMember(room: string, userKey: string): Promise<number>;
  /** The highest epoch `sender` has distributed in `room` (0 if none). */
  latestEpoch(room: string, sender: string): Promise<number>;
  /** Store the wraps of one sender-key distribution, atomically. */
  saveSenderKey(wraps: StoredWrap[]): Promise<void>;
  /** The wrap of (room, sender, epoch) for `recipient`, if one exists. */
  getWrap(
    room: string,
    sender: string,
    epoch: number,
    recipient: string,
  ): Promise<StoredWrap | null>;
  /**
   * Durably append a message with the next room sequence number; resolves
   * only after the commit. A repeated (room, sender, id) returns the original seq
   * with duplicate=true and stores nothing. Engines may commit appends made
   * close together in one transaction (group commit).
   */
  appendMessage(message: Omit<StoredMessage, "seq">): Promise<AppendResult>;
  /** The seq of the message `sender` stored in `room` under `id`, if any. */
  findMessageSeq(
    room: string,
    sender: string,
    id: string,
  ): Promise<number | null>;
  /**
   * Up to `limit` messages of `room` before `beforeSeq` that `recipient` can
   * decrypt (a wrap for them exists), newest first.
   */
  history(
    room: string,
    recipient: string,
    beforeSeq: number,
    limit: number,
  ): Promise<StoredMessage[]>;
  /**
   * Up to `limit` messages of `room` after `afterSeq` that `recipient` can
   * decrypt, oldest first (catching up after a reconnect).
   */
  historyAfter(
    room: string,
    recipient: string,
    afterSeq: number,
    limit: number,
  ): Promise<StoredMessage[]>;
  /** The newest sequence number of `room` (0 if none). */
  lastSeq(room: string): Promise<number>;
  /** The oldest stored sequence number of `room` (0 if none), by the primary key. */
  firstSeq(room: string): Promise<number>;
  /** Flush and close. */
  close(): Promise<void>;
}

/** A storage operation failed (disk full, read-only, constraint). */
export class StoreError extends Error {
  /** Machine-readable code: `conflict`, `unavailable`. */
  readonly code: string;
  /** Create a store error. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreError";
    this.code = code;
  }
}
