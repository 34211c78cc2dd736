/**
 * Requests waiting for the server's answer, keyed by what answers them
 * (`room:NAME` for a join, `user:KEY` for a lookup, `load:ROOM` for a page of
 * history, `pong:N` for a barrier). Each waiter names the value it gets if
 * no answer comes: when its connection ends, or after a timeout.
 * @module
 */

/** How long a request waits for its answer before it gets its fallback. */
export const REQUEST_TIMEOUT_MS = 60_000;

interface Waiter {
  resolve(value: unknown): void;
  fallback: unknown;
  timer: ReturnType<typeof setTimeout>;
}

/** Every request in flight on one session. */
export class PendingRequests {
  #waiting = new Map<string, Waiter[]>();
  #timeoutMs: number;

  /** Requests give up after `timeoutMs` (default REQUEST_TIMEOUT_MS). */
  constructor(timeoutMs = REQUEST_TIMEOUT_MS) {
    this.#timeoutMs = timeoutMs;
  }

  /** How many requests wait. */
  get size(): number {
    let n = 0;
    for (const waiters of this.#waiting.values()) n += waiters.length;
    return n;
  }

  /** Wait for the answer to `key`; `fallback` if none comes in time or the connection ends. */
  wait<T>(key: string, fallback: T): Promise<T> {
    const { promise, resolve } = Promise.withResolvers<T>();
    const waiter: Waiter = {
      resolve: resolve as (value: unknown) => void,
      fallback,
      timer: setTimeout(() => this.#drop(key, waiter), this.#timeoutMs),
    };
    const waiters = this.#waiting.get(key) ?? [];
    waiters.push(waiter);
    this.#waiting.set(key, waiters);
    return promise;
  }

  /** True when someone waits for `key`. */
  has(key: string): boolean {
    return this.#waiting.has(key);
  }

  /** True when someone waits for a key starting with `prefix`. */
  hasPrefix(prefix: string): boolean {
    for (const key of this.#waiting.keys()) {
      if (key.startsWith(prefix)) return true;
    }
    return false;
  }

  /** The answer to `key` came: every waiter for it gets `value`. */
  answer(key: string, value: unknown): void {
    const waiters = this.#waiting.get(key);
    if (!waiters) return;
    this.#waiting.delete(key);
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve(value);
    }
  }

  /** No answer will come for keys starting with `prefix`: they get their fallbacks. */
  giveUp(prefix: string): void {
    for (const key of [...this.#waiting.keys()]) {
      if (key.startsWith(prefix)) this.#fallBack(key);
    }
  }

  /** The connection ended: every request gets its fallback. */
  giveUpAll(): void {
    this.giveUp("");
  }

  #fallBack(key: string): void {
    const waiters = this.#waiting.get(key) ?? [];
    this.#waiting.delete(key);
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve(w.fallback);
    }
  }

  #drop(key: string, waiter: Waiter): void {
    const waiters = this.#waiting.get(key);
    if (!waiters) return;
    const rest = waiters.filter((w) => w !== waiter);
    if (rest.length) this.#waiting.set(key, rest);
    else this.#waiting.delete(key);
    waiter.resolve(waiter.fallback);
  }
}
