/**
 * User identity keys: an Ed25519 key that signs and an RSA-OAEP-3072
 * (SHA-256, e=65537) key that only unwraps sender keys. Also the
 * fingerprint and pairwise safety number people compare out of band.
 * @module
 */
import { createHash } from "node:crypto";
import { canonicalEncode, LABELS } from "../canonical.ts";
import {
  constantTimeEqual,
  fromBase64Url,
  toBase64Url,
  toHex,
} from "../bytes.ts";
import { CryptoError } from "../errors.ts";
import { userKey } from "../names.ts";
import { sign, verify } from "./ed25519.ts";
import { identityKeyProblem } from "./ed25519_key_check.ts";
import {
  exportPrivateKey,
  generateSigningKeyPair,
  importDecryptKey,
  importSigningKey,
  rawPublicKey,
} from "./private_keys.ts";

// Signing lives in ed25519.ts; re-exported for callers that import it here.
export { sign, verify };

/** What everyone may know about a user: name, id and public keys (raw bytes). */
export interface PublicIdentity {
  user: string;
  uid: string;
  /** Ed25519 public key, 32 raw bytes. */
  idKey: Uint8Array<ArrayBuffer>;
  /** RSA-OAEP public key, SubjectPublicKeyInfo DER. */
  encKey: Uint8Array<ArrayBuffer>;
}

/** A user's full identity, private keys included. Never leaves the client. */
export interface Identity extends PublicIdentity {
  signingKey: CryptoKey;
  verifyKey: CryptoKey;
  decryptKey: CryptoKey;
  encryptKey: CryptoKey;
}

/** The serialisable form of an Identity, written to a 0600 key file. */
export interface StoredIdentity {
  format: "chat-identity-v1";
  user: string;
  uid: string;
  idPublic: string;
  idPrivate: string;
  encPublic: string;
  encPrivate: string;
  created: string;
}

const RSA_PARAMS: RsaHashedKeyGenParams = {
  name: "RSA-OAEP",
  modulusLength: 3072,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
};

/** Generate a fresh identity (takes ~1 s: RSA-3072 key generation). */
export async function generateIdentity(user: string): Promise<Identity> {
  const ed = await generateSigningKeyPair();
  const rsa = await crypto.subtle.generateKey(RSA_PARAMS, true, [
    "encrypt",
    "decrypt",
  ]) as CryptoKeyPair;
  return {
    user,
    uid: crypto.randomUUID(),
    idKey: await rawPublicKey(ed.publicKey),
    encKey: new Uint8Array(
      await crypto.subtle.exportKey("spki", rsa.publicKey),
    ),
    signingKey: ed.privateKey,
    verifyKey: ed.publicKey,
    decryptKey: rsa.privateKey,
    encryptKey: rsa.publicKey,
  };
}

/** Serialise an identity (private keys as PKCS#8) for the key file. */
export async function exportIdentity(
  identity: Identity,
  created = new Date(),
): Promise<StoredIdentity> {
  const pkcs8 = async (key: CryptoKey) =>
    toBase64Url(await exportPrivateKey(key));
  return {
    format: "chat-identity-v1",
    user: identity.user,
    uid: identity.uid,
    idPublic: toBase64Url(identity.idKey),
    idPrivate: await pkcs8(identity.signingKey),
    encPublic: toBase64Url(identity.encKey),
    encPrivate: await pkcs8(identity.decryptKey),
    created: created.toISOString(),
  };
}

/** Rebuild an identity from its stored form, validating every key. */
export async function importIdentity(
  stored: StoredIdentity,
): Promise<Identity> {
  if (stored.format !== "chat-identity-v1") {
    throw new CryptoError("unknown key file format");
  }
  try {
    const idKey = fromBase64Url(stored.idPublic);
    const encKey = fromBase64Url(stored.encPublic);
    const signingKey = await importSigningKey(fromBase64Url(stored.idPrivate));
    const decryptKey = await importDecryptKey(
      fromBase64Url(stored.encPrivate),
    );
    checkRsaKey(decryptKey);
    const identity: Identity = {
      user: stored.user,
      uid: stored.uid,
      idKey,
      encKey,
      signingKey,
      decryptKey,
      verifyKey: await importVerifyKey(idKey),
      encryptKey: await importEncryptKey(encKey),
    };
    await assertKeyPairsMatch(identity);
    return identity;
  } catch (cause) {
    if (cause instanceof CryptoError) throw cause;
    throw new CryptoError("key file is damaged: a key could not be imported", {
      cause,
    });
  }
}

/** A key file whose public halves belong to other private keys is damaged or forged. */
async function assertKeyPairsMatch(identity: Identity): Promise<void> {
  const probe = crypto.getRandomValues(new Uint8Array(32));
  const signature = await sign(identity.signingKey, probe);
  if (!await verify(identity.verifyKey, signature, probe)) {
    throw new CryptoError(
      "key file is damaged: its identity public key does not match its private key",
    );
  }
  const wrapped = await crypto.subtle.encrypt(
    { name: "RSA-OAEP" },
    identity.encryptKey,
    probe,
  );
  let unwrapped: Uint8Array;
  try {
    unwrapped = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "RSA-OAEP" },
        identity.decryptKey,
        wrapped,
      ),
    );
  } catch {
    unwrapped = new Uint8Array(0);
  }
  if (!constantTimeEqual(unwrapped, probe)) {
    throw new CryptoError(
      "key file is damaged: its encryption public key does not match its private key",
    );
  }
}

function checkRsaKey(key: CryptoKey): void {
  const alg = key.algorithm as RsaHashedKeyAlgorithm;
  const e = alg.publicExponent;
  if (
    alg.modulusLength !== 3072 || e.length !== 3 || e[0] !== 1 ||
    e[1] !== 0 || e[2] !== 1 || (alg.hash as Algorithm).name !== "SHA-256"
  ) {
    throw new CryptoError(
      "encryption key must be RSA-OAEP-3072 with SHA-256 and e=65537",
    );
  }
}

/** Import a peer's Ed25519 public key (32 raw bytes) for verifying; small-order keys are refused. */
export async function importVerifyKey(raw: Uint8Array): Promise<CryptoKey> {
  const problem = identityKeyProblem(raw);
  if (problem) throw new CryptoError(problem);
  try {
    return await crypto.subtle.importKey(
      "raw",
      new Uint8Array(raw),
      { name: "Ed25519" },
      true,
      ["verify"],
    );
  } catch (cause) {
    throw new CryptoError("identity key is not a valid Ed25519 key", { cause });
  }
}

/** Import a peer's RSA-OAEP public key (SPKI), refusing weak parameters. */
export async function importEncryptKey(spki: Uint8Array): Promise<CryptoKey> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      "spki",
      new Uint8Array(spki),
      { name: "RSA-OAEP", hash: "SHA-256" },
      true,
      ["encrypt"],
    );
  } catch (cause) {
    throw new CryptoError("encryption key is not a valid RSA key", { cause });
  }
  checkRsaKey(key);
  return key;
}

/** Decode a MemberInfo-style public identity from base64url fields. */
export function decodePublicIdentity(
  member: { user: string; uid: string; idKey: string; encKey: string },
): PublicIdentity {
  return {
    user: member.user,
    uid: member.uid,
    idKey: fromBase64Url(member.idKey),
    encKey: fromBase64Url(member.encKey),
  };
}

/**
 * SHA-256 over the labelled (user, uid, identity key, encryption key): 32
 * bytes. Hashed with synchronous node:crypto, a tenth of the CPU of
 * `crypto.subtle.digest` in Deno 2.9 (the server computes one per login).
 */
export function fingerprint(
  who: PublicIdentity,
): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = canonicalEncode(LABELS.fingerprint, [
    userKey(who.user),
    who.uid,
    who.idKey,
    who.encKey,
  ]);
  return Promise.resolve(
    new Uint8Array(createHash("sha256").update(bytes).digest()),
  );
}

/** A fingerprint for people: 64 hex digits in 16 groups of 4. */
export function formatFingerprint(fp: Uint8Array): string {
  return toHex(fp).match(/.{4}/g)!.join(" ");
}

/** The first 4 groups of a fingerprint, for compact lists like /who. */
export function shortFingerprint(fp: Uint8Array): string {
  return formatFingerprint(fp).slice(0, 19);
}

/** True when two public identities have the same keys (constant time). */
export function sameKeys(a: PublicIdentity, b: PublicIdentity): boolean {
  const idSame = constantTimeEqual(a.idKey, b.idKey);
  const encSame = constantTimeEqual(a.encKey, b.encKey);
  return idSame && encSame && a.uid === b.uid;
}

/**
 * The pairwise safety number two users compare out of band (as in Signal):
 * 60 digits in 12 groups of 5, the same whichever side computes it.
 */
export async function safetyNumber(
  a: PublicIdentity,
  b: PublicIdentity,
): Promise<string> {
  const fps = [await fingerprint(a), await fingerprint(b)].sort(compareBytes);
  const digest = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-512",
      canonicalEncode(LABELS.safetyNumber, fps),
    ),
  );
  const groups: string[] = [];
  for (let i = 0; i < 12; i++) {
    let value = 0;
    for (let j = 0; j < 5; j++) value = value * 256 + digest[i * 5 + j]!;
    groups.push(String(value % 100000).padStart(5, "0"));
  }
  return groups.join(" ");
}

/** Compare a typed safety number with the expected one, ignoring spacing, in constant time. */
export function safetyNumbersMatch(typed: string, expected: string): boolean {
  const clean = (s: string) => new TextEncoder().encode(s.replace(/\s+/g, ""));
  return constantTimeEqual(clean(typed), clean(expected));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
