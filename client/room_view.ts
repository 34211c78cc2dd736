/**
 * The client's view of one room: roster, members with imported keys, its
 * own current sender key and the sender keys it has received.
 * @module
 */
import type { PublicIdentity } from "../shared/crypto/identity.ts";
import type { SenderKey } from "../shared/crypto/sender_key.ts";
import type { MessageEvent } from "./events.ts";
import { userKey } from "../shared/names.ts";

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

/** One room as this client sees it. */
export class RoomView {
  readonly name: string;
  roster = 0;
  /** user key → member. */
  readonly members = new Map<string, Person>();
  /** Our own current sender key, or null when it must be rotated. */
  myKey: SenderKey | null = null;
  /** The roster version our key was distributed for. */
  myKeyRoster = -1;
  /** Next counter under myKey. */
  counter = 0;
  /** The epoch our next rotation will use. */
  nextEpoch = 1;
  /** `sender\0epoch` → received sender key. */
  readonly senderKeys = new Map<string, SenderKey>();
  /** Joined on the current connection (its roster is fresh). */
  live = false;
  /**
   * Every message up to this sequence number has been received (or was
   * deliberately skipped as old context). Undefined until the first load.
   */
  syncedSeq: number | undefined = undefined;
  /** The history request in flight for this room, if any. */
  historyMode: "initial" | "after" | "load" | null = null;
  /** Highest seq received by the catch-up in flight. */
  catchUpCursor = 0;
  /** The newest topic seen, if any. */
  topic: RoomTopic | undefined = undefined;
  /** Messages of the history request in flight, shown as one block at its end. */
  historyBlock: MessageEvent[] = [];
  #historyWaiters: (() => void)[] = [];

  /** An empty view of `name`. */
  constructor(name: string) {
    this.name = name;
  }

  /** True when our sender key must be rotated before the next message. */
  needsRotation(): boolean {
    return this.myKey === null || this.myKeyRoster !== this.roster;
  }

  /** The history request in flight ended (or its connection did): wake whoever waits. */
  settleHistory(): void {
    this.historyMode = null;
    this.historyBlock = [];
    const waiters = this.#historyWaiters;
    this.#historyWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves when no history request is in flight (at once if none is). */
  whenHistoryIdle(): Promise<void> {
    if (this.historyMode === null) return Promise.resolve();
    return new Promise((wake) => this.#historyWaiters.push(wake));
  }

  /** Remember `topic` if it is newer than the one known. */
  noteTopic(topic: RoomTopic): void {
    if (!this.topic || topic.seq > this.topic.seq) this.topic = topic;
  }

  /** The received key of (sender, epoch), if any. */
  senderKey(sender: string, epoch: number): SenderKey | undefined {
    return this.senderKeys.get(`${userKey(sender)}\u0000${epoch}`);
  }

  /** Remember a received (or our own) sender key. */
  addSenderKey(key: SenderKey): void {
    this.senderKeys.set(`${key.sender}\u0000${key.epoch}`, key);
  }
}
