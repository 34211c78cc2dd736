/**
 * Ed25519 signatures for WebCrypto keys, computed with `node:crypto`.
 *
 * Callers hold `CryptoKey`s (identity keys stay non-extractable); each key
 * is turned into a `node:crypto` KeyObject once, on first use, and kept in a
 * private WeakMap that dies with the key. In Deno 2.9 a synchronous
 * node:crypto signature or verification costs a third to a half of the CPU
 * of a WebCrypto one (no hop to a worker thread), and the bytes are the
 * same: Ed25519 is deterministic (RFC 8032), so both make identical
 * signatures and accept each other's (ed25519_test.ts checks both ways).
 * @module
 */
import {
  KeyObject,
  sign as signWithKeyObject,
  verify as verifyWithKeyObject,
} from "node:crypto";

const keyObjects = new WeakMap<CryptoKey, KeyObject>();

function isEd25519(key: CryptoKey, usage: "sign" | "verify"): boolean {
  return key.algorithm.name === "Ed25519" &&
    key.type === (usage === "sign" ? "private" : "public") &&
    key.usages.includes(usage);
}

function keyObjectOf(key: CryptoKey): KeyObject {
  let keyObject = keyObjects.get(key);
  if (!keyObject) {
    keyObject = KeyObject.from(key);
    keyObjects.set(key, keyObject);
  }
  return keyObject;
}

/**
 * Ed25519-sign bytes with a private key that has the "sign" usage; the
 * 64-byte signature is the one `crypto.subtle.sign("Ed25519", …)` makes.
 * Throws TypeError for any other key.
 *
 * @example
 * ```ts
 * import { sign, verify } from "./ed25519.ts";
 * const pair = await crypto.subtle.generateKey("Ed25519", false, [
 *   "sign",
 *   "verify",
 * ]) as CryptoKeyPair;
 * const bytes = new TextEncoder().encode("hello");
 * const signature = await sign(pair.privateKey, bytes);
 * console.assert(await verify(pair.publicKey, signature, bytes));
 * ```
 */
export function sign(
  key: CryptoKey,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!isEd25519(key, "sign")) {
    return Promise.reject(
      new TypeError(
        'signing needs an Ed25519 private key with the "sign" usage; pass an identity\'s signingKey',
      ),
    );
  }
  const signature = signWithKeyObject(null, bytes, keyObjectOf(key));
  return Promise.resolve(new Uint8Array(signature));
}

/**
 * Ed25519-verify a signature with a public key that has the "verify" usage.
 * False (never throws) on a malformed signature, a key that is not an
 * Ed25519 verify key, or a public key that is not a curve point.
 */
export function verify(
  key: CryptoKey,
  signature: Uint8Array<ArrayBuffer>,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  if (signature.length !== 64 || !isEd25519(key, "verify")) {
    return Promise.resolve(false);
  }
  try {
    return Promise.resolve(
      verifyWithKeyObject(null, bytes, keyObjectOf(key), signature),
    );
  } catch {
    return Promise.resolve(false);
  }
}
