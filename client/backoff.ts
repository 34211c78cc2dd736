/**
 * Reconnect delays: exponential growth with "equal jitter" (half fixed,
 * half random) so that clients cut off together do not return together.
 * @module
 */

/** Successive delays for reconnect attempts. */
export class Backoff {
  #attempt = 0;
  #initialMs: number;
  #maxMs: number;
  #random: () => number;

  /** Delays start near `initialMs` and double up to `maxMs`. */
  constructor(
    options: { initialMs?: number; maxMs?: number; random?: () => number } = {},
  ) {
    this.#initialMs = options.initialMs ?? 500;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#random = options.random ?? Math.random;
  }

  /** The next delay in ms: in [cap/2, cap] where cap = min(max, initial·2^n). */
  next(): number {
    const cap = Math.min(this.#maxMs, this.#initialMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.round(cap / 2 + (cap / 2) * this.#random());
  }

  /** Start again from the shortest delay (after a successful connection). */
  reset(): void {
    this.#attempt = 0;
  }
}
