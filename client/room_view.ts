/**
 * The client's view of one room: roster, members with imported keys, its
 * own current sender key, the sender keys it has received, and where its
 * history stands. Changed only through its own methods.
 * @module
 */
import type { PublicIdentity } from "../shared/crypto/identity.ts";
import type { SenderKey } from "../shared/crypto/sender_key.ts";
import { userKey } from "../shared/names.ts";
import type { MessageEvent } from "./events.ts";

/** A known user with keys imported and fingerprint computed. */
export interface Person {
  user: string;
  key: string;
  identity: PublicIdentity;
  verifyKey: CryptoKey;
  encryptKey: CryptoKey;
  fingerprint: Uint8Array;
  online: boolean;
}

/** A room's topic as last set by a member (signed and encrypted like a message). */
export interface RoomTopic {
  text: string;
  from: string;
  ts: number;
  /** The topic message's sequence number: the highest wins. */
  seq: number;
}

/** Which history request is in flight: recent context, a catch-up, a page back. */
export type HistoryMode = "initial" | "after" | "load";

/** One room as this client sees it. */
export class RoomView {
  readonly name: string;
  #roster = 0;
  /** user key → member. */
  readonly #members = new Map<string, Person>();
  /** Our own current sender key, or null when it must be rotated. */
  #myKey: SenderKey | null = null;
  /** The roster version our key was distributed for. */
  #myKeyRoster = -1;
  /** Next counter under our key. */
  #counter = 0;
  /** The epoch our next rotation will use. */
  #nextEpoch = 1;
  /** `sender\0epoch` → received sender key. */
  readonly #senderKeys = new Map<string, SenderKey>();
  #live = false;
  #syncedSeq: number | undefined = undefined;
  #historyMode: HistoryMode | null = null;
  #catchUpCursor = 0;
  #topic: RoomTopic | undefined = undefined;
  #historyBlock: MessageEvent[] = [];
  #historyWaiters: (() => void)[] = [];

  /** An empty view of `name`. */
  constructor(name: string) {
    this.name = name;
  }

  // ---- roster ---------------------------------------------------------------

  /** The server's roster version this view holds. */
  get roster(): number {
    return this.#roster;
  }

  /** user key → member (read only: change it with setMember/removeMember). */
  get members(): ReadonlyMap<string, Person> {
    return this.#members;
  }

  /** Joined on the current connection (its roster is fresh). */
  get live(): boolean {
    return this.#live;
  }

  /** A `joined` frame: the whole roster anew, live on this connection. */
  applyJoined(roster: number, epoch: number, members: Person[]): void {
    this.#roster = roster;
    this.#nextEpoch = Math.max(this.#nextEpoch, epoch + 1);
    this.#members.clear();
    for (const person of members) this.#members.set(person.key, person);
    this.#live = true;
  }

  /** A member joined (with their keys) or left; the roster moved to `roster`. */
  applyRosterChange(roster: number, key: string, person: Person | null): void {
    this.#roster = roster;
    if (person) this.#members.set(key, person);
    else this.#members.delete(key);
  }

  /** A new connection: nothing is live, our key must be sent anew, no history in flight. */
  startConnection(): void {
    this.#live = false;
    this.#myKey = null;
    this.settleHistory();
  }

  /** The connection ended. */
  connectionLost(): void {
    this.#live = false;
  }

  // ---- our sender key ------------------------------------------------------

  /** Our current sender key (null: rotate before the next message). */
  get myKey(): SenderKey | null {
    return this.#myKey;
  }

  /** True when our sender key must be rotated before the next message. */
  needsRotation(): boolean {
    return this.#myKey === null || this.#myKeyRoster !== this.#roster;
  }

  /** Forget our key: the next message rotates (stale key, a verify, a failure). */
  invalidateKey(): void {
    this.#myKey = null;
  }

  /** Forget our key if it is the one of `epoch` (a message under it was refused). */
  invalidateKeyOf(epoch: number): void {
    if (this.#myKey?.epoch === epoch) this.#myKey = null;
  }

  /** The epoch for our next rotation (each call gives a new one). */
  takeEpoch(): number {
    return this.#nextEpoch++;
  }

  /** The server expects epochs after `epoch`: rotate to one of them. */
  skipPastEpoch(epoch: number): void {
    this.#nextEpoch = Math.max(this.#nextEpoch, epoch + 1);
    this.#myKey = null;
  }

  /** Adopt our new sender key, distributed for roster version `roster`. */
  adoptOwnKey(key: SenderKey, roster: number): void {
    this.#myKey = key;
    this.#myKeyRoster = roster;
    this.#counter = 0;
    this.addSenderKey(key);
  }

  /** The counter for our next message under the current key. */
  takeCounter(): number {
    return this.#counter++;
  }

  // ---- received sender keys --------------------------------------------------

  /** The received key of (sender, epoch), if any. */
  senderKey(sender: string, epoch: number): SenderKey | undefined {
    return this.#senderKeys.get(`${userKey(sender)}\u0000${epoch}`);
  }

  /** Remember a received (or our own) sender key. */
  addSenderKey(key: SenderKey): void {
    this.#senderKeys.set(`${key.sender}\u0000${key.epoch}`, key);
  }

  // ---- history -------------------------------------------------------------

  /**
   * Every message up to this sequence number has been received (or was
   * deliberately skipped as old context). Undefined until the first load.
   */
  get syncedSeq(): number | undefined {
    return this.#syncedSeq;
  }

  /** The history request in flight for this room, if any. */
  get historyMode(): HistoryMode | null {
    return this.#historyMode;
  }

  /** Highest seq received by the catch-up in flight. */
  get catchUpCursor(): number {
    return this.#catchUpCursor;
  }

  /** A history request of `mode` goes out (a catch-up starts at syncedSeq). */
  beginHistory(mode: HistoryMode): void {
    this.#historyMode = mode;
    if (mode === "after") this.#catchUpCursor = this.#syncedSeq ?? 0;
  }

  /** A catch-up delivered `seq`. */
  advanceCatchUp(seq: number): void {
    this.#catchUpCursor = Math.max(this.#catchUpCursor, seq);
  }

  /** Everything up to `seq` has been received (no-op before the first load). */
  markSynced(seq: number, evenBeforeFirstLoad = false): void {
    if (this.#syncedSeq === undefined && !evenBeforeFirstLoad) return;
    this.#syncedSeq = Math.max(this.#syncedSeq ?? 0, seq);
  }

  /** A stored message of the request in flight, held to be shown as one block. */
  holdForBlock(event: MessageEvent): void {
    this.#historyBlock.push(event);
  }

  /** Take the held block, oldest first (empty afterwards). */
  takeBlock(): MessageEvent[] {
    const block = this.#historyBlock.sort((a, b) => a.seq - b.seq);
    this.#historyBlock = [];
    return block;
  }

  /** The history request in flight ended (or its connection did): wake whoever waits. */
  settleHistory(): void {
    this.#historyMode = null;
    this.#historyBlock = [];
    const waiters = this.#historyWaiters;
    this.#historyWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves when no history request is in flight (at once if none is). */
  whenHistoryIdle(): Promise<void> {
    if (this.#historyMode === null) return Promise.resolve();
    return new Promise((wake) => this.#historyWaiters.push(wake));
  }

  // ---- topic -----------------------------------------------------------------

  /** The newest topic seen, if any. */
  get topic(): RoomTopic | undefined {
    return this.#topic;
  }

  /** Remember `topic` if it is newer than the one known. */
  noteTopic(topic: RoomTopic): void {
    if (!this.#topic || topic.seq > this.#topic.seq) this.#topic = topic;
  }
}
