/**
 * A token bucket: up to `burst` actions at once, then `perSecond` more
 * per second. Used for the per-user message rate.
 * @module
 */

/** One bucket; `now` is injectable so tests need no waiting. */
export class TokenBucket {
  #tokens: number;
  #last: number;
  #burst: number;
  #perSecond: number;
  #now: () => number;

  /** A full bucket. */
  constructor(burst: number, perSecond: number, now: () => number = Date.now) {
    this.#burst = burst;
    this.#perSecond = perSecond;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  /** Take one token if there is one; false means "slow down". */
  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is there (0: one is there now). */
  msUntilToken(): number {
    this.#refill();
    if (this.#tokens >= 1) return 0;
    // less a hair for floating-point error (0.002 / 2 * 1000 is not quite 1)
    return Math.ceil(((1 - this.#tokens) / this.#perSecond) * 1000 - 1e-6);
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + ((now - this.#last) / 1000) * this.#perSecond,
    );
    this.#last = now;
  }
}
