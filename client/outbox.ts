/**
 * Messages the user sent that the server has not acknowledged yet. Each
 * keeps its id across retries and reconnects, so the server can drop a
 * repeat and the user sees it exactly once.
 * @module
 */
import type { MessageBody } from "../shared/crypto/envelope.ts";

/** One unacknowledged message. */
export interface OutgoingMessage {
  /** Idempotency key: the same on every transmission. */
  readonly id: string;
  readonly room: string;
  readonly body: MessageBody;
  /** Epoch, counter and timestamp of the last transmission. */
  epoch: number;
  counter: number;
  ts: number;
  /** Retries after stale-key errors on the current connection. */
  tries: number;
  /** The connection it was last transmitted on (null: not yet, or that one is gone). */
  sentOn: object | null;
}

/** Unacknowledged messages in the order they were typed, bounded. */
export class Outbox {
  #items = new Map<string, OutgoingMessage>();
  #max: number;
  #emptyWaiters: (() => void)[] = [];
  #roomWaiters: (() => void)[] = [];

  /** An outbox that holds at most `max` messages. */
  constructor(max: number) {
    this.#max = max;
  }

  /** Number of messages waiting. */
  get size(): number {
    return this.#items.size;
  }

  /** Queue a new message; null when the outbox is full. */
  add(room: string, body: MessageBody): OutgoingMessage | null {
    if (this.#items.size >= this.#max) return null;
    const message: OutgoingMessage = {
      id: crypto.randomUUID(),
      room,
      body,
      epoch: -1,
      counter: -1,
      ts: 0,
      tries: 0,
      sentOn: null,
    };
    this.#items.set(message.id, message);
    return message;
  }

  /** The waiting message with this id. */
  get(id: string): OutgoingMessage | undefined {
    return this.#items.get(id);
  }

  /** Remove a message (acknowledged or given up). */
  delete(id: string): void {
    if (!this.#items.delete(id)) return;
    const waiting = this.#roomWaiters.shift();
    waiting?.();
    if (this.#items.size === 0) this.wakeAll();
  }

  /**
   * Resolves once one more message fits (at once if it does now), or when
   * wakeAll is called; one waiter is woken per message removed.
   */
  whenRoom(): Promise<void> {
    if (this.#items.size < this.#max) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** The oldest waiting message that `wanted` accepts. */
  oldest(
    wanted: (message: OutgoingMessage) => boolean,
  ): OutgoingMessage | undefined {
    for (const message of this.#items.values()) {
      if (wanted(message)) return message;
    }
    return undefined;
  }

  /** Waiting messages for `room` not yet sent on `connection`, oldest first. */
  unsentOn(room: string, connection: object): OutgoingMessage[] {
    return [...this.#items.values()].filter((m) =>
      m.room === room && m.sentOn !== connection
    );
  }

  /** Resolves when the outbox is empty (or wakeAll is called). */
  whenEmpty(): Promise<void> {
    if (this.#items.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }

  /** Wake everyone waiting for an empty outbox (on empty, or when giving up). */
  wakeAll(): void {
    const waiters = [...this.#emptyWaiters, ...this.#roomWaiters];
    this.#emptyWaiters = [];
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }
}
