/**
 * The server's log on stdout, written in batches: every line logged until
 * the next timer tick (setTimeout 0: ~2 ms in Deno 2.9) goes out in one
 * write. Under a burst of logins one `console.log` (a synchronous write to
 * a pipe) per line cost the server ~15 % of its login throughput, and a
 * write per event-loop turn (setImmediate) still ~20 %. Lines keep their
 * order; `flush()` writes at once (before exiting). A crash loses at most
 * the last ~2 ms of lines. Each line starts with the ISO-8601 UTC time it was
 * logged at (not written at), e.g. `2026-05-04T09:12:03.417Z chat: …`.
 * @module
 */

/** Writes bytes somewhere, possibly only some of them (like Deno.stdout.writeSync). */
export type SyncWriter = (bytes: Uint8Array) => number;

/** The current time (a parameter so tests can fix it). */
export type Clock = () => Date;

/** `line` prefixed with the ISO-8601 UTC timestamp of `at`. */
export function timestamped(line: string, at: Date): string {
  return `${at.toISOString()} ${line}`;
}

/** Lines batched per timer tick, each stamped with the time it was logged. */
export class TurnBatchedLog {
  #lines: string[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #write: SyncWriter;
  #now: Clock;
  #encoder = new TextEncoder();

  /** A log that writes with `write` (default: stdout), stamping lines with `now`. */
  constructor(
    write: SyncWriter = (b) => Deno.stdout.writeSync(b),
    now: Clock = () => new Date(),
  ) {
    this.#write = write;
    this.#now = now;
  }

  /** Log one line (a timestamp and a newline are added); written at the next timer tick. */
  readonly log = (line: string): void => {
    this.#lines.push(timestamped(line, this.#now()));
    this.#timer ??= setTimeout(() => this.flush(), 0);
  };

  /** Write every waiting line now. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#lines.length === 0) return;
    const bytes = this.#encoder.encode(this.#lines.join("\n") + "\n");
    this.#lines = [];
    let written = 0;
    try {
      while (written < bytes.length) {
        written += this.#write(bytes.subarray(written));
      }
    } catch {
      // stdout is gone (a closed pipe): the log is lost, the server goes on
    }
  }
}
