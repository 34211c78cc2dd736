/**
 * Refusing Ed25519 public keys that prove nothing. A small-order point (the
 * identity, or one of the 7 other points of order 2, 4 or 8) verifies forged
 * signatures: with the identity as the key, R = identity and S = 0 "sign"
 * every message, and both WebCrypto and node:crypto in Deno 2.9.6 accept
 * that. Whoever registered such a key could be impersonated by anyone, so
 * it is refused wherever an identity key is imported.
 *
 * The 8 small-order points have only five y-coordinates (0, 1, −1 and ±y8),
 * so checking y is enough, and needs no point arithmetic.
 * @module
 */

/** The field prime 2^255 − 19. */
export const FIELD_PRIME = 2n ** 255n - 19n;

/** y of the points of order 8 (little-endian hex, sign bit clear). */
const ORDER_8_Y_HEX =
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a";

/** The y-coordinate (sign bit cleared) of a 32-byte point encoding. */
export function encodedY(raw: Uint8Array): bigint {
  let y = 0n;
  for (let i = 31; i >= 0; i--) {
    y = (y << 8n) | BigInt(i === 31 ? raw[i]! & 0x7f : raw[i]!);
  }
  return y;
}

const ORDER_8_Y = encodedY(
  Uint8Array.from(ORDER_8_Y_HEX.match(/../g)!, (h) => parseInt(h, 16)),
);

/** y-coordinates of the 8 small-order points. */
export const SMALL_ORDER_Y: ReadonlySet<bigint> = new Set([
  0n,
  1n,
  FIELD_PRIME - 1n,
  ORDER_8_Y,
  FIELD_PRIME - ORDER_8_Y,
]);

/** Why `raw` (32 bytes) is not acceptable as an identity key, or null. */
export function identityKeyProblem(raw: Uint8Array): string | null {
  if (raw.length !== 32) return "identity key must be 32 bytes";
  const y = encodedY(raw);
  if (y >= FIELD_PRIME) return "identity key is not canonically encoded";
  if (SMALL_ORDER_Y.has(y)) {
    return "identity key is a small-order point: it would verify forged signatures";
  }
  return null;
}
