/**
 * Durations on the command line: `500ms`, `30s`, `5m`, `2h`, `7d`.
 * @module
 */

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parse a duration into milliseconds; throws RangeError with a hint on junk.
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * console.assert(parseDuration("1.5s") === 1500);
 * ```
 */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) {
    throw new RangeError(
      `"${text}" is not a duration; use a number and a unit: 500ms, 30s, 5m, 2h or 7d`,
    );
  }
  const ms = Math.round(Number(match[1]) * UNITS[match[2]!]!);
  if (!Number.isSafeInteger(ms)) throw new RangeError(`"${text}" is too long`);
  return ms;
}

/** A duration in the largest whole unit: `90s` → "90s", 120000 → "2m". */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"]) {
    const size = UNITS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
