/**
 * Pacing outgoing messages to the rate the server announced at login: a
 * token bucket mirrored on the client (the server keeps the same one per
 * user), so a paste or a piped script is sent as fast as the server accepts
 * it instead of being refused line by line.
 * @module
 */

/** Messages of the burst left unused, as a margin for the server's clock. */
const SAFETY_TOKENS = 2;
/** The share of the server's rate used after the burst. */
const SAFETY_RATE = 0.9;

/** A token bucket that says how long to wait, rather than refusing. */
export class Pacer {
  #burst: number;
  #perSecond: number;
  #tokens: number;
  #last: number;
  #now: () => number;

  /** A full bucket: `burst` messages at once, then `perSecond` more each second. */
  constructor(burst: number, perSecond: number, now: () => number = Date.now) {
    this.#now = now;
    this.#burst = burst;
    this.#perSecond = perSecond;
    this.#tokens = burst;
    this.#last = now();
  }

  /**
   * Adopt the rate a server announced (a new connection starts full), with
   * a margin: the server's bucket starts when our first message reaches
   * it, which may be late (it was busy storing our key), and a message
   * more than a moment early is refused.
   */
  setRate(burst: number, perSecond: number): void {
    this.#burst = Math.max(1, burst - SAFETY_TOKENS);
    this.#perSecond = perSecond * SAFETY_RATE;
    this.#tokens = this.#burst;
    this.#last = this.#now();
  }

  /** Milliseconds until the next message may go (0: now). */
  delay(): number {
    this.#refill();
    if (this.#tokens >= 1) return 0;
    // less a hair for floating-point error: 0.002 / 2 * 1000 is not quite 1
    return Math.ceil(((1 - this.#tokens) / this.#perSecond) * 1000 - 1e-6);
  }

  /** Spend one token (call when delay() is 0). */
  take(): void {
    this.#refill();
    this.#tokens = Math.max(0, this.#tokens - 1);
  }

  /**
   * The server refused a message for its rate (another of the user's
   * devices spent tokens too): start again from an empty bucket.
   */
  empty(): void {
    this.#refill();
    this.#tokens = 0;
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + elapsed * this.#perSecond,
    );
  }
}
