/**
 * The identity's key kinds as bytes and back: a fresh Ed25519 signing pair,
 * private keys in and out of PKCS#8, the public identity key as its 32 raw
 * bytes. No checks of RSA parameters here: importing an identity checks
 * them (identity.ts); this module only moves keys between WebCrypto and
 * bytes, for key files and for the bench's cache of simulated users.
 * @module
 */

const ED25519 = { name: "Ed25519" } as const;
const RSA_OAEP_SHA256 = { name: "RSA-OAEP", hash: "SHA-256" } as const;

/**
 * A fresh Ed25519 identity key pair, extractable so that its private half
 * can be written to a key file with exportPrivateKey.
 * @example
 * ```ts
 * import {
 *   exportPrivateKey,
 *   generateSigningKeyPair,
 *   importSigningKey,
 *   rawPublicKey,
 * } from "./private_keys.ts";
 * const pair = await generateSigningKeyPair();
 * console.assert((await rawPublicKey(pair.publicKey)).length === 32);
 * const again = await importSigningKey(await exportPrivateKey(pair.privateKey));
 * console.assert(again.usages.includes("sign"));
 * ```
 */
export async function generateSigningKeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(ED25519, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
}

/** An extractable private key as PKCS#8 DER. */
export async function exportPrivateKey(
  key: CryptoKey,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
}

/** An Ed25519 public key as its 32 raw bytes (the `idKey` on the wire). */
export async function rawPublicKey(
  key: CryptoKey,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.exportKey("raw", key));
}

/** A non-extractable Ed25519 signing key from PKCS#8 DER. */
export function importSigningKey(pkcs8: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "pkcs8",
    new Uint8Array(pkcs8),
    ED25519,
    false,
    ["sign"],
  );
}

/**
 * A non-extractable RSA-OAEP (SHA-256) decryption key from PKCS#8 DER. Its
 * size and exponent are not checked here (identity.ts's importIdentity does).
 */
export function importDecryptKey(pkcs8: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "pkcs8",
    new Uint8Array(pkcs8),
    RSA_OAEP_SHA256,
    false,
    ["decrypt"],
  );
}
