/**
 * In-memory state of one room: members, roster version, sequence counter,
 * and the current sender key of each member who has sent since this
 * process started.
 * @module
 */

/** A member's current sender key as the server knows it (wraps only, never the key). */
export interface SenderState {
  epoch: number;
  /** The roster version the key was distributed for. */
  roster: number;
  /** Highest message counter accepted under this epoch (-1 before the first). */
  lastCounter: number;
  /** recipient user key → wrap and signature (base64url). */
  wraps: Map<string, { wrap: string; sig: string }>;
}

/** One room's live state. */
export class RoomState {
  readonly name: string;
  roster: number;
  lastSeq: number;
  /** Member user keys. */
  readonly members: Set<string>;
  /** sender user key → their current key distribution. */
  readonly senders = new Map<string, SenderState>();
  /** Senders whose last key distribution could not be stored. */
  readonly keyStoreFailed = new Set<string>();

  /** Build a room from its stored record. */
  constructor(
    name: string,
    roster: number,
    lastSeq: number,
    members: string[],
  ) {
    this.name = name;
    this.roster = roster;
    this.lastSeq = lastSeq;
    this.members = new Set(members);
  }

  /** True when `sender` may send under `epoch` now: the key exists and covers the current roster. */
  keyIsCurrent(sender: string, epoch: number): boolean {
    const state = this.senders.get(sender);
    return state !== undefined && state.epoch === epoch &&
      state.roster === this.roster;
  }
}
