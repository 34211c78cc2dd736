/**
 * Invite codes: one string that carries the server's address, its CA
 * certificate (so the client trusts exactly that CA, without trust on first
 * use) and a single-use secret. Format: `chat1:` + base64url(JSON).
 * @module
 */
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from "./bytes.ts";
import { CliError } from "./errors.ts";
import { certificateDer, certificatePem } from "./pem.ts";

function caDer(pem: string): Uint8Array {
  const der = certificateDer(pem);
  if (!der) throw new TypeError("the CA is not a PEM certificate");
  return der;
}

/** What an invite code carries. */
export interface Invite {
  /** `host:port` clients connect to. */
  server: string;
  /** The CA certificate, PEM. */
  caPem: string;
  /** 32 random bytes, base64url; the server keeps only its SHA-256. */
  secret: string;
}

const PREFIX = "chat1:";

/** A fresh secret: 32 random bytes, base64url. */
export function newInviteSecret(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** SHA-256 of a secret, hex: what the server stores. */
export async function inviteSecretHash(secret: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", fromBase64Url(secret)),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Encode an invite as one copy-and-paste string.
 * @example
 * ```ts
 * import { decodeInvite, encodeInvite, newInviteSecret } from "./invite_code.ts";
 * // a stand-in for a real CA certificate: at least 16 bytes of DER
 * const pem = "-----BEGIN CERTIFICATE-----\nMIIBAAECAwQFBgcICQoLDA0ODw==\n-----END CERTIFICATE-----\n";
 * const code = encodeInvite({ server: "chat.example.org:7443", caPem: pem, secret: newInviteSecret() });
 * console.assert(decodeInvite(code).server === "chat.example.org:7443");
 * ```
 */
export function encodeInvite(invite: Invite): string {
  const json = JSON.stringify({
    v: 1,
    s: invite.server,
    c: toBase64Url(caDer(invite.caPem)),
    k: invite.secret,
  });
  return PREFIX + toBase64Url(utf8(json));
}

/**
 * Decode an invite code; throws a {@linkcode CliError} saying what is wrong
 * with it, with a hint to copy the whole code.
 */
export function decodeInvite(code: string): Invite {
  const bad = (why: string) =>
    new CliError(`this invite code is not valid (${why})`, {
      hint:
        "copy the whole code from the `chat join --invite …` line you were sent",
    });
  const trimmed = code.trim();
  if (!trimmed.startsWith(PREFIX)) throw bad("it does not start with chat1:");
  let value: { v?: unknown; s?: unknown; c?: unknown; k?: unknown };
  try {
    value = JSON.parse(fromUtf8(fromBase64Url(trimmed.slice(PREFIX.length))));
  } catch {
    throw bad("it is damaged");
  }
  if (
    value.v !== 1 || typeof value.s !== "string" ||
    typeof value.c !== "string" ||
    typeof value.k !== "string"
  ) {
    throw bad("fields are missing");
  }
  let der: Uint8Array, secret: Uint8Array;
  try {
    der = fromBase64Url(value.c);
    secret = fromBase64Url(value.k);
  } catch {
    throw bad("it is damaged");
  }
  if (secret.length !== 32 || der.length < 16) throw bad("it is damaged");
  return { server: value.s, caPem: certificatePem(der), secret: value.k };
}
