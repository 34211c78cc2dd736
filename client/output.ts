/**
 * Writing text to stdout completely (a pipe may take a write in pieces).
 * @module
 */

const encoder = new TextEncoder();

/** Write all of `text` to stdout. */
export function writeStdout(text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}
