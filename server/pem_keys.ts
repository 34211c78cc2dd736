/**
 * The local CA's keys in PEM: ECDSA P-256 signing keys as PKCS#8 blocks,
 * and the DER inside PEM blocks.
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

/** The key type of the local CA and its server certificates. */
export const EC_KEY: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
/** How they sign. */
export const SIGNING: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

/** The DER contents of every PEM block of `type` in `pem`. */
export function pemBlocks(pem: string, type: string): ArrayBuffer[] {
  return x509.PemConverter.decodeWithHeaders(pem)
    .filter((block) => block.type === type)
    .map((block) => block.rawData);
}

/** Import the PKCS#8 P-256 signing key in `pem`. */
export async function importPrivateKey(
  pem: string,
  extractable: boolean,
): Promise<CryptoKey> {
  const der = pemBlocks(pem, "PRIVATE KEY")[0];
  if (der === undefined) throw new TypeError("no PKCS#8 PRIVATE KEY block");
  return await crypto.subtle.importKey("pkcs8", der, EC_KEY, extractable, [
    "sign",
  ]);
}

/** A private key as a PKCS#8 PEM block. */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return `${x509.PemConverter.encode(der, "PRIVATE KEY")}\n`;
}
