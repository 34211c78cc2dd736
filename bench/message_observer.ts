/**
 * What an observer member does with what it receives, exactly as the
 * client does: verify and unwrap each sender key addressed to it, then
 * verify and decrypt every message, and time it from the send stamp in the
 * plaintext. Work runs in arrival order, off the read loop, so reading is
 * never held up by crypto (the arrival time is taken when bytes are read).
 * @module
 */
import {
  type SenderKey,
  unwrapSenderKey,
} from "../shared/crypto/sender_key.ts";
import { openMessageFrame } from "../shared/message_frame.ts";
import { userKey } from "../shared/names.ts";
import type { KeyFrame, MemberInfo, MessageFrame } from "../shared/protocol.ts";
import { stampOf } from "./payload.ts";
import type { WorkerContext } from "./worker_context.ts";

/** One observer's received keys and its queue of crypto work. */
export class MessageObserver {
  #me: string;
  #decryptKey: CryptoKey;
  #members: Map<string, MemberInfo>;
  #ctx: WorkerContext;
  #keys = new Map<string, SenderKey>();
  #queue: Promise<void> = Promise.resolve();

  /** An observer named `me`; `members` is its live roster (user key → info). */
  constructor(
    me: string,
    decryptKey: CryptoKey,
    members: Map<string, MemberInfo>,
    ctx: WorkerContext,
  ) {
    this.#me = me;
    this.#decryptKey = decryptKey;
    this.#members = members;
    this.#ctx = ctx;
  }

  /** Queue a `key` frame: verify its signature, then unwrap. */
  key(frame: KeyFrame): void {
    this.#queue = this.#queue.then(() => this.#unwrap(frame));
  }

  /** Queue a `msg` frame read at epoch time `at`: verify, decrypt, time it. */
  message(frame: MessageFrame, at: number): void {
    this.#queue = this.#queue.then(() => this.#open(frame, at));
  }

  /** Resolves when everything queued so far is done. */
  settled(): Promise<void> {
    return this.#queue;
  }

  async #unwrap(frame: KeyFrame): Promise<void> {
    const sender = this.#members.get(userKey(frame.from));
    if (!sender) return this.#ctx.error(`${this.#me}: key from a stranger`);
    try {
      const key = await unwrapSenderKey(
        frame,
        { user: userKey(this.#me), decryptKey: this.#decryptKey },
        await this.#ctx.verifyKey(sender.idKey),
      );
      this.#keys.set(`${key.sender}\u0000${key.epoch}`, key);
    } catch (error) {
      this.#ctx.error(`${this.#me}: bad key: ${(error as Error).message}`);
    }
  }

  async #open(frame: MessageFrame, at: number): Promise<void> {
    const from = userKey(frame.from);
    const key = this.#keys.get(`${from}\u0000${frame.epoch}`);
    const sender = this.#members.get(from);
    if (!key || !sender) {
      return this.#ctx.error(`${this.#me}: no key for a message of ${from}`);
    }
    try {
      const body = await openMessageFrame(
        key,
        frame,
        await this.#ctx.verifyKey(sender.idKey),
      );
      const sentAt = stampOf(body.text);
      if (at >= this.#ctx.t0) this.#ctx.latencies.push(at - sentAt);
    } catch (error) {
      this.#ctx.error(`${this.#me}: ${(error as Error).message}`);
    }
  }
}
