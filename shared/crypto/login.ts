/**
 * The login proof: the client signs the server's single-use challenge with
 * its identity key, bound to the server name it connected to, the session,
 * and both public keys it registers (so no one can pair its identity key
 * with another encryption key).
 * @module
 */
import { canonicalEncode, LABELS } from "../canonical.ts";
import { userKey } from "../names.ts";
import { sign, verify } from "./ed25519.ts";

/** Everything the login signature covers. */
export interface LoginChallenge {
  server: string;
  session: string;
  nonce: Uint8Array;
  uid: string;
  user: string;
  /** The Ed25519 public key (raw) the name is claimed with. */
  idKey: Uint8Array;
  /** The RSA-OAEP public key (SPKI) the name is claimed with. */
  encKey: Uint8Array;
}

function loginBytes(c: LoginChallenge): Uint8Array<ArrayBuffer> {
  return canonicalEncode(LABELS.login, [
    c.server.toLowerCase(),
    c.session,
    c.nonce,
    c.uid,
    userKey(c.user),
    c.idKey,
    c.encKey,
  ]);
}

/** Sign a login challenge with the identity (Ed25519) key. */
export function signLogin(
  signingKey: CryptoKey,
  challenge: LoginChallenge,
): Promise<Uint8Array<ArrayBuffer>> {
  return sign(signingKey, loginBytes(challenge));
}

/** Verify a login signature; false on any mismatch. */
export function verifyLogin(
  verifyKey: CryptoKey,
  signature: Uint8Array<ArrayBuffer>,
  challenge: LoginChallenge,
): Promise<boolean> {
  return verify(verifyKey, signature, loginBytes(challenge));
}
