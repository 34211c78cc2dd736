/**
 * One clock for every process of a bench run: milliseconds since the Unix
 * epoch with sub-millisecond resolution (`performance.timeOrigin +
 * performance.now()`). Processes on one machine read the same system clock
 * at start, so a time stamped by a sender can be compared with the time a
 * receiver in another process sees the message.
 * @module
 */

/** Epoch milliseconds, fractional. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolve after `ms` milliseconds (at once for ms ≤ 0). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Resolve at epoch time `at` (as returned by now()). */
export function sleepUntil(at: number): Promise<void> {
  return sleep(at - now());
}

/** Wait for `work`, but no longer than `ms`; true if it finished in time. */
export async function within(work: Promise<unknown>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
