/**
 * A token bucket: up to `burst` actions at once, then `perSecond` more per
 * second. The server keeps one per user for messages and refuses what it
 * cannot take (or waits a moment for it); the client keeps one to pace
 * itself below the rate the server announced, and asks how long to wait.
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
    return this.spend(1);
  }

  /** Spend `amount` tokens (bytes, say); false (and nothing spent) when there are fewer. */
  spend(amount: number): boolean {
    this.#refill();
    if (this.#tokens < amount) return false;
    this.#tokens -= amount;
    return true;
  }

  /** Milliseconds until a token is there (0: one is there now). */
  msUntilToken(): number {
    this.#refill();
    if (this.#tokens >= 1) return 0;
    // less a hair for floating-point error (0.002 / 2 * 1000 is not quite 1)
    return Math.ceil(((1 - this.#tokens) / this.#perSecond) * 1000 - 1e-6);
  }

  /** Spend every token: the next one comes a full interval from now. */
  empty(): void {
    this.#refill();
    this.#tokens = 0;
  }

  /** Change the rate and start full again. */
  setRate(burst: number, perSecond: number): void {
    this.#burst = burst;
    this.#perSecond = perSecond;
    this.#tokens = burst;
    this.#last = this.#now();
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
