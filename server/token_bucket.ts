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
    const now = this.#now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + ((now - this.#last) / 1000) * this.#perSecond,
    );
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
