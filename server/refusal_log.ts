/**
 * Refusals counted by class and logged once per interval with their
 * counts ("refused 1200 connections in 10 s: 1100 prefix_handshakes, …"),
 * never one line per refusal: a flood of refusals must not become a flood
 * of log lines.
 * @module
 */

/** Counts of refusals by class, flushed to the log every `intervalMs`. */
export class RefusalLog {
  #counts = new Map<string, number>();
  #log: (line: string) => void;
  #intervalMs: number;
  #timer: ReturnType<typeof setTimeout> | null = null;

  /** A log that writes at most one line per `intervalMs`. */
  constructor(log: (line: string) => void, intervalMs = 10_000) {
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  /** Count one refusal of `kind` (a short code, e.g. `prefix_handshakes`). */
  count(kind: string): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + 1);
    this.#timer ??= setTimeout(() => this.flush(), this.#intervalMs);
  }

  /** Log what was counted (if anything) and start a new interval. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#counts.size === 0) return;
    let total = 0;
    const parts: string[] = [];
    for (const [kind, n] of this.#counts) {
      total += n;
      parts.push(`${n} ${kind}`);
    }
    this.#counts.clear();
    this.#log(`refused ${total} connections: ${parts.join(", ")}`);
  }
}
