/**
 * The login proof: the client signs the server's single-use challenge with
 * its identity key, bound to the server name it connected to and the session.
 * @module
 */
import { canonicalEncode, LABELS } from "../canonical.ts";
import { userKey } from "../names.ts";
import { sign, verify } from "./identity.ts";

/** Everything the login signature covers. */
export interface LoginChallenge {
  server: string;
  session: string;
  nonce: Uint8Array;
  uid: string;
  user: string;
}

function loginBytes(c: LoginChallenge): Uint8Array<ArrayBuffer> {
  return canonicalEncode(LABELS.login, [
    c.server.toLowerCase(),
    c.session,
    c.nonce,
    c.uid,
    userKey(c.user),
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
