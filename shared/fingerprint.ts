/**
 * What a key fingerprint looks like when a person types or pastes one:
 * the 64 hex digits of a SHA-256 (crypto/identity.ts makes them), in
 * groups separated by spaces or colons. The one place that decides whether
 * a text names a fingerprint, for the client's /allow, the server's
 * operator list and moderation, and the `mod` frame.
 * @module
 */

/** Longest fingerprint text a `mod` frame may carry (64 digits and separators). */
export const MAX_FINGERPRINT_TEXT = 128;

const SEPARATORS = /[\s:]/g;
const HEX_64 = /^[0-9a-f]{64}$/;
const FINGERPRINT_CHARACTERS = /^[0-9a-fA-F :]+$/;

/**
 * The canonical form of a typed fingerprint: its 64 hex digits in lower
 * case with spaces and colons dropped, or null when the text is not one.
 * @example
 * ```ts
 * import { normalizeFingerprint } from "./fingerprint.ts";
 * const typed = "ABAB abab:".repeat(8).slice(0, -1);
 * console.assert(normalizeFingerprint(typed) === "ab".repeat(32));
 * console.assert(normalizeFingerprint("abcd") === null);
 * ```
 */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.replace(SEPARATORS, "").toLowerCase();
  return HEX_64.test(hex) ? hex : null;
}

/**
 * Whether `text` is written only with the characters of a fingerprint
 * (hex digits, spaces, colons) and is not longer than one can be. The
 * `mod` frame's check: a fingerprint of the wrong length is the receiver's
 * to refuse with normalizeFingerprint, not a malformed frame.
 */
export function isFingerprintText(text: string): boolean {
  return text.length <= MAX_FINGERPRINT_TEXT &&
    FINGERPRINT_CHARACTERS.test(text);
}
