/**
 * What a simulated sender says: its high-resolution send time (epoch ms
 * with microseconds, the clock of bench/clock.ts) padded to the payload
 * size, so an observer can compute send → receive latency from the text
 * alone, on the same clock.
 * @module
 */

/** Smallest payload that holds a time stamp. */
export const MIN_PAYLOAD_BYTES = 24;

/** A message text of exactly `bytes` ASCII bytes carrying time `sentAt`. */
export function stampedText(sentAt: number, bytes: number): string {
  const stamp = `${sentAt.toFixed(3)} `;
  return stamp + "x".repeat(Math.max(0, bytes - stamp.length));
}

/** The send time in a stamped text (NaN if there is none). */
export function stampOf(text: string): number {
  return Number.parseFloat(text);
}

/**
 * One line for the bare relay: `NAME SEQ TIME ` then padding to exactly
 * `bytes` bytes including the final newline.
 */
export function relayLine(
  name: string,
  seq: number,
  sentAt: number,
  bytes: number,
): string {
  const head = `${name} ${seq} ${sentAt.toFixed(3)} `;
  return head + "x".repeat(Math.max(0, bytes - head.length - 1)) + "\n";
}
