/**
 * Failed logins per address in a sliding window: after `max` failures in
 * `windowMs`, that address may not try again until the oldest ages out.
 * @module
 */

/** Failed-login counter per IP address. */
export class LoginThrottle {
  #failures = new Map<string, number[]>();
  #max: number;
  #windowMs: number;
  #now: () => number;

  /** At most `max` failures per `windowMs` per address. */
  constructor(max: number, windowMs = 60_000, now: () => number = Date.now) {
    this.#max = max;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  #recent(ip: string): number[] {
    const since = this.#now() - this.#windowMs;
    const kept = (this.#failures.get(ip) ?? []).filter((t) => t > since);
    if (kept.length === 0) this.#failures.delete(ip);
    else this.#failures.set(ip, kept);
    return kept;
  }

  /** True when `ip` has used up its failures for now. */
  blocked(ip: string): boolean {
    return this.#recent(ip).length >= this.#max;
  }

  /** Count one failed login from `ip`. */
  recordFailure(ip: string): void {
    this.#failures.set(ip, [...this.#recent(ip), this.#now()]);
  }
}
