/**
 * Small statistics helpers for latency samples and repeated timings.
 * @module
 */

/** The p-th percentile (0–100) of `sorted` (ascending), nearest rank; NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** p50, p99 and max of latency samples in ms, plus how many there were. */
export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

/** Summarise samples (any order). Empty input gives NaN, which the report shows as "n/a". */
export function summarizeLatency(samples: number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  return {
    p50: percentile(list, 50),
    p99: percentile(list, 99),
    max: list.length ? list[list.length - 1]! : NaN,
    samples: list.length,
  };
}

/** Median of a list of numbers (NaN when empty). */
export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Round to `digits` decimals (keeps NaN). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
