/**
 * What the simulated clients of one worker process share: delivery and
 * error counters, latency samples, the pacer's per-sender progress (for
 * as-fast-as-possible sending with a bounded window), and caches of
 * imported public keys.
 * @module
 */
import {
  importEncryptKey,
  importVerifyKey,
} from "../shared/crypto/identity.ts";
import { fromBase64Url } from "../shared/bytes.ts";

/** What a simulated client does in a scenario. */
export type Role = "sender" | "observer" | "member";

/** One simulated client as the coordinator assigns it. */
export interface MemberSpec {
  /** Index into the identity cache (and the user name). */
  index: number;
  role: Role;
  /** Counts deliveries per sender for the window of --asap senders (one per worker). */
  pacer: boolean;
}

/** Counters and caches of one worker process. */
export class WorkerContext {
  /** `msg` frames (or relay lines) received since the measured phase began. */
  delivered = 0;
  /** …of which arrived before the end of the measured window. */
  deliveredInWindow = 0;
  /** Start and end of the measured window (epoch ms); Infinity before it starts. */
  t0 = Infinity;
  windowEnd = Infinity;
  /** Send → receive latencies (ms) seen by observers in the measured phase. */
  latencies: number[] = [];
  /** Error frames and failures, in the measured phase and in total. */
  errors = 0;
  errorsTotal = 0;
  errorSamples: string[] = [];
  /** Pongs sent in answer to server pings. */
  pongs = 0;
  /** Connections the server closed on us. */
  disconnects = 0;
  /** Largest delay between a scheduled send and its start (ms). */
  maxSendLagMs = 0;
  #seen = new Map<string, number>();
  #waiters: (() => void)[] = [];
  #verifyKeys = new Map<string, Promise<CryptoKey>>();
  #encryptKeys = new Map<string, Promise<CryptoKey>>();

  /** True once the measured phase has begun. */
  get measuring(): boolean {
    return this.t0 !== Infinity;
  }

  /** Begin the measured phase: zero the counters. */
  startWindow(t0: number, windowEnd: number): void {
    this.t0 = t0;
    this.windowEnd = windowEnd;
    this.delivered = 0;
    this.deliveredInWindow = 0;
    this.latencies = [];
    this.errors = 0;
    this.maxSendLagMs = 0;
    this.#seen.clear();
  }

  /** One delivery arrived at epoch time `at`. */
  countDelivery(at: number): void {
    this.delivered++;
    if (at <= this.windowEnd) this.deliveredInWindow++;
  }

  /** Record a problem (kept as a sample for the report). */
  error(text: string): void {
    this.errorsTotal++;
    if (this.measuring) this.errors++;
    if (this.errorSamples.length < 20) this.errorSamples.push(text);
  }

  /** The pacer saw one more message from `from`. */
  recordSeen(from: string): void {
    this.#seen.set(from, (this.#seen.get(from) ?? 0) + 1);
    if (this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Messages from `from` the pacer has seen in the measured phase. */
  seen(from: string): number {
    return this.#seen.get(from) ?? 0;
  }

  /** Resolves on the pacer's next progress, or after `ms`. */
  waitProgress(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#waiters.push(done);
    });
  }

  /** A peer's Ed25519 key (base64url), imported once per worker. */
  verifyKey(idKey: string): Promise<CryptoKey> {
    let key = this.#verifyKeys.get(idKey);
    if (!key) {
      key = importVerifyKey(fromBase64Url(idKey));
      this.#verifyKeys.set(idKey, key);
    }
    return key;
  }

  /** A peer's RSA-OAEP key (base64url SPKI), imported and checked once per worker. */
  encryptKey(encKey: string): Promise<CryptoKey> {
    let key = this.#encryptKeys.get(encKey);
    if (!key) {
      key = importEncryptKey(fromBase64Url(encKey));
      this.#encryptKeys.set(encKey, key);
    }
    return key;
  }
}
