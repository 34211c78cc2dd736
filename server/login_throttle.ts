/**
 * Failed logins slow down further attempts, per address and per name, with
 * exponentially growing delays; they never lock anyone out. A login whose
 * signature verifies with the keys already registered to its name is never
 * throttled (login_check decides that), so a user behind the same NAT as an
 * attacker, or whose name is being guessed at, still gets in.
 *
 * The address of the login being checked reaches login_check through an
 * AsyncLocalStorage that `throttling()` opens around each connection: the
 * session only knows the address, login_check only the name and the keys.
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { usernameSkeleton } from "../shared/names.ts";

/** How one kind of key (addresses, names) is slowed down. */
export interface BackoffSettings {
  /** Failures allowed before any delay. */
  freeFailures: number;
  /** The delay after the first failure over the free ones, ms; then doubling. */
  baseDelayMs: number;
  /** No delay grows beyond this, ms. */
  maxDelayMs: number;
  /** A key with no failure for this long starts over, ms. */
  forgetAfterMs: number;
}

/** Per-address and per-name settings. */
export interface LoginThrottleSettings {
  perAddress: BackoffSettings;
  perName: BackoffSettings;
}

/** Defaults (docs/security.md, "Abuse limits: logins, names and files"). */
export const DEFAULT_LOGIN_THROTTLE: LoginThrottleSettings = {
  perAddress: {
    freeFailures: 5,
    baseDelayMs: 1_000,
    maxDelayMs: 60_000,
    forgetAfterMs: 15 * 60_000,
  },
  perName: {
    freeFailures: 5,
    baseDelayMs: 1_000,
    maxDelayMs: 15 * 60_000,
    forgetAfterMs: 60 * 60_000,
  },
};

/** Entries kept per kind at most: the oldest are forgotten first. */
const MAX_ENTRIES = 100_000;

/** Failures of one address or name. */
interface Failures {
  count: number;
  lastAt: number;
}

/** Exponential backoff for a set of keys (addresses, or names). */
class Backoff {
  #entries = new Map<string, Failures>();
  #settings: BackoffSettings;

  constructor(settings: BackoffSettings) {
    this.#settings = settings;
  }

  /** The delay after `count` failures, ms (0 while they are free). */
  delayAfter(count: number): number {
    const { freeFailures, baseDelayMs, maxDelayMs } = this.#settings;
    if (count < freeFailures) return 0;
    const doublings = Math.min(count - freeFailures, 30);
    return Math.min(maxDelayMs, baseDelayMs * 2 ** doublings);
  }

  #live(key: string, now: number): Failures | undefined {
    const entry = this.#entries.get(key);
    if (entry && now - entry.lastAt >= this.#settings.forgetAfterMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Ms until `key` may try again (0: now). */
  waitMs(key: string, now: number): number {
    const entry = this.#live(key, now);
    if (!entry) return 0;
    return Math.max(0, entry.lastAt + this.delayAfter(entry.count) - now);
  }

  /** Count a failure of `key` at `now`. */
  fail(key: string, now: number): void {
    const count = (this.#live(key, now)?.count ?? 0) + 1;
    this.#entries.delete(key); // re-inserted last: the map is oldest first
    this.#entries.set(key, { count, lastAt: now });
    if (this.#entries.size > MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** Forget `key`'s failures. */
  clear(key: string): void {
    this.#entries.delete(key);
  }

  /** Keys remembered (for tests). */
  get size(): number {
    return this.#entries.size;
  }
}

/** The address of the connection whose login is being checked, and its throttle. */
export interface LoginGate {
  throttle: LoginThrottle;
  ip: string;
}

const gates = new AsyncLocalStorage<LoginGate>();

/** Failed logins per address and per name (by look-alike skeleton). */
export class LoginThrottle {
  #addresses: Backoff;
  #names: Backoff;
  #now: () => number;

  /**
   * `freeFailures` failures per address (and per name) before delays start
   * (`--max-failed-logins`); the rest of `settings` from the defaults.
   */
  constructor(
    freeFailures = DEFAULT_LOGIN_THROTTLE.perAddress.freeFailures,
    settings: LoginThrottleSettings = DEFAULT_LOGIN_THROTTLE,
    now: () => number = Date.now,
  ) {
    this.#addresses = new Backoff({ ...settings.perAddress, freeFailures });
    this.#names = new Backoff({ ...settings.perName, freeFailures });
    this.#now = now;
  }

  /** Ms until a login that is not a registered key's may be tried from `ip` as `name`. */
  waitMs(ip: string, name: string): number {
    const now = this.#now();
    return Math.max(
      this.#addresses.waitMs(ip, now),
      this.#names.waitMs(usernameSkeleton(name), now),
    );
  }

  /** Count a failed login from `ip` as `name`. */
  countFailure(ip: string, name: string): void {
    const now = this.#now();
    this.#addresses.fail(ip, now);
    this.#names.fail(usernameSkeleton(name), now);
  }

  /**
   * The session calls this after a refused login. It counts nothing:
   * checkLogin has counted the failure already, with its name.
   */
  recordFailure(_ip: string): void {}

  /** `name` logged in with its own key: guesses at it so far are moot. */
  recordSuccess(name: string): void {
    this.#names.clear(usernameSkeleton(name));
  }

  /**
   * The session asks this before a login is checked. Always false: the
   * decision needs the name and whether the key is the registered one,
   * which only login_check knows (see checkLogin).
   */
  blocked(_ip: string): boolean {
    return false;
  }

  /**
   * Run `serve` for each connection with its address known to checkLogin
   * (through currentLoginGate) and counted by this throttle.
   */
  throttling<C extends { remoteAddress: string }>(
    serve: (conn: C) => void,
  ): (conn: C) => void {
    return (conn) =>
      gates.run({ throttle: this, ip: conn.remoteAddress }, () => serve(conn));
  }
}

/** The gate of the connection whose login is being checked, if any. */
export function currentLoginGate(): LoginGate | undefined {
  return gates.getStore();
}
