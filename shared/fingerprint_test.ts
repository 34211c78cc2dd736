import {
  isFingerprintText,
  MAX_FINGERPRINT_TEXT,
  normalizeFingerprint,
} from "./fingerprint.ts";
import { formatFingerprint } from "./crypto/identity.ts";
import { assert, assertEquals } from "./_test_assert.ts";

const HEX = "0123456789abcdef".repeat(4);

Deno.test("normalizeFingerprint accepts 64 hex digits in any case, grouped by spaces, colons or nothing", () => {
  const bytes = new Uint8Array(32).map((_, i) => i * 7);
  const shown = formatFingerprint(bytes); // as chat id prints it
  const hex = shown.replaceAll(" ", "");
  for (
    const typed of [
      shown,
      hex,
      hex.toUpperCase(),
      hex.match(/../g)!.join(":"),
      ` ${shown}\t`,
    ]
  ) {
    assertEquals(normalizeFingerprint(typed), hex, typed);
  }
});

Deno.test("normalizeFingerprint refuses too few or too many digits and other characters", () => {
  for (
    const typed of [
      "",
      HEX.slice(1),
      HEX + "0",
      HEX.slice(1) + "g",
      HEX.slice(1) + "-",
      `0x${HEX.slice(2)}`,
    ]
  ) {
    assertEquals(normalizeFingerprint(typed), null, typed);
  }
});

Deno.test("isFingerprintText allows only hex digits, spaces and colons, up to the frame's limit", () => {
  assert(isFingerprintText("ABcd 12:34"));
  assert(isFingerprintText("a".repeat(MAX_FINGERPRINT_TEXT)));
  assert(!isFingerprintText("a".repeat(MAX_FINGERPRINT_TEXT + 1)));
  assert(!isFingerprintText(""));
  assert(!isFingerprintText("abcd\t12"));
  assert(!isFingerprintText("xyz"));
});
