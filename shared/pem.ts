/**
 * PEM certificates: to and from DER, and the SHA-256 fingerprint people
 * compare (uppercase hex pairs joined by ':', as `openssl x509 -fingerprint`).
 * @module
 */

const CERT = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/;

/** The DER bytes of the first certificate in `pem`, or null if there is none. */
export function certificateDer(pem: string): Uint8Array<ArrayBuffer> | null {
  const body = CERT.exec(pem)?.[1]?.replace(/\s+/g, "");
  if (!body) return null;
  try {
    const binary = atob(body);
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Wrap DER bytes as a PEM certificate. */
export function certificatePem(der: Uint8Array): string {
  let binary = "";
  for (const b of der) binary += String.fromCharCode(b);
  const lines = btoa(binary).match(/.{1,64}/g)!.join("\n");
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

/** SHA-256 fingerprint of a PEM certificate: uppercase hex pairs joined by ':'. */
export async function certificateFingerprint(pem: string): Promise<string> {
  const der = certificateDer(pem);
  if (!der) {
    throw new TypeError(
      'certificateFingerprint expects a PEM "-----BEGIN CERTIFICATE-----" block',
    );
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(":")
    .toUpperCase();
}
