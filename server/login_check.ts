/**
 * Checking one `login` frame: the server name it was signed for, its keys,
 * its signature over this connection's challenge, then admission (bans,
 * invite-only, invites) before the name is claimed. Throws AuthError for
 * every refusal the client is to be told about.
 * @module
 */
import { AuthError, type CryptoError } from "../shared/errors.ts";
import { constantTimeEqual, fromBase64Url, toHex } from "../shared/bytes.ts";
import type { LoginFrame } from "../shared/protocol.ts";
import {
  fingerprint as fingerprintOf,
  importEncryptKey,
  importVerifyKey,
} from "../shared/crypto/identity.ts";
import { verifyLogin } from "../shared/crypto/login.ts";
import type { Admission } from "./admission.ts";
import { currentLoginGate, type LoginGate } from "./login_throttle.ts";
import type { UserRegistry } from "./registry.ts";
import type { UserRecord } from "./store/history_store.ts";

/** What a login is checked against. */
export interface LoginChecker {
  /** Names this server answers to (the certificate's SANs). */
  serverNames: string[];
  registry: UserRegistry;
  admission: Admission;
}

/** The challenge one connection sent in its `hello`. */
export interface LoginChallenge {
  session: string;
  nonce: Uint8Array;
}

/** A login that passed: the user's record and their keys' fingerprint (hex). */
export interface CheckedLogin {
  record: UserRecord;
  fingerprint: string;
}

/**
 * True when certificate name `pattern` covers `host`: equal (ignoring case),
 * or a `*.` wildcard matching exactly one leftmost label.
 */
export function nameMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase(), h = host.toLowerCase();
  if (p === h) return true;
  if (!p.startsWith("*.")) return false;
  const dot = h.indexOf(".");
  return dot > 0 && h.slice(dot) === p.slice(1);
}

/**
 * Check `frame` against `challenge`; the user's record once admitted and
 * claimed. Inside a connection of LoginThrottle.throttling() every refusal
 * is counted against the address and the name, and a login that is not
 * signed with the keys already registered to its name is refused with
 * `too_many_failures` while either is delayed; the registered keys always
 * get in (see login_throttle.ts).
 */
export async function checkLogin(
  frame: LoginFrame,
  checker: LoginChecker,
  challenge: LoginChallenge,
): Promise<CheckedLogin> {
  const gate = currentLoginGate();
  try {
    const login = await checkGated(frame, checker, challenge, gate);
    gate?.throttle.recordSuccess(frame.user);
    return login;
  } catch (error) {
    if (
      gate && error instanceof AuthError && error.code !== "too_many_failures"
    ) gate.throttle.countFailure(gate.ip, frame.user);
    throw error;
  }
}

async function checkGated(
  frame: LoginFrame,
  checker: LoginChecker,
  challenge: LoginChallenge,
  gate: LoginGate | undefined,
): Promise<CheckedLogin> {
  const server = frame.server.toLowerCase();
  if (!checker.serverNames.some((n) => nameMatches(n, server))) {
    throw new AuthError(
      "wrong_server",
      `this server is not "${frame.server}"; connect with one of: ${
        checker.serverNames.join(", ")
      }`,
    );
  }
  // read before the key checks: a store failure is not a bad key
  const known = await checker.registry.get(frame.user);
  const registered = holdsRegisteredKeys(frame, known);
  if (!registered) refuseWhileThrottled(gate, frame.user);
  let verified: VerifiedKeys;
  try {
    verified = await verifyKeys(frame, challenge, known);
  } catch (error) {
    // a bad signature over the registered keys is a guess like any other
    if (error instanceof AuthError) refuseWhileThrottled(gate, frame.user);
    throw error;
  }
  return await admitAndClaim(frame, checker, verified);
}

/** Throw too_many_failures while `gate`'s address or `name` is delayed. */
function refuseWhileThrottled(gate: LoginGate | undefined, name: string) {
  const waitMs = gate?.throttle.waitMs(gate.ip, name) ?? 0;
  if (waitMs === 0) return;
  throw new AuthError(
    "too_many_failures",
    `too many failed logins from your address or as "${name}"; try again in ${
      Math.ceil(waitMs / 1000)
    } s`,
  );
}

/** True when `frame` carries exactly the keys and uid registered to its name. */
function holdsRegisteredKeys(
  frame: LoginFrame,
  known: UserRecord | null,
): boolean {
  if (known === null) return false;
  try {
    return sameKeys(
      frame,
      fromBase64Url(frame.idKey),
      fromBase64Url(frame.encKey),
      known,
    );
  } catch {
    return false; // undecodable keys are nobody's
  }
}

/** Compared in constant time. */
function sameKeys(
  frame: LoginFrame,
  idKey: Uint8Array,
  encKey: Uint8Array,
  known: UserRecord,
): boolean {
  return known.uid === frame.uid && known.name === frame.user &&
    constantTimeEqual(known.idKey, idKey) &&
    constantTimeEqual(known.encKey, encKey);
}

/** A login's keys once they and its signature checked out. */
interface VerifiedKeys {
  idKey: Uint8Array<ArrayBuffer>;
  encKey: Uint8Array<ArrayBuffer>;
  checked: CheckedKeys;
  fingerprint: string;
}

/** Check the login's keys and its signature over the challenge. */
async function verifyKeys(
  frame: LoginFrame,
  challenge: LoginChallenge,
  known: UserRecord | null,
): Promise<VerifiedKeys> {
  let idKey: Uint8Array<ArrayBuffer>, encKey: Uint8Array<ArrayBuffer>;
  let keys: CheckedKeys;
  try {
    idKey = fromBase64Url(frame.idKey);
    encKey = fromBase64Url(frame.encKey);
    keys = await checkedKeys(frame, idKey, encKey, known);
  } catch (cause) {
    throw new AuthError(
      "bad_key",
      `login keys rejected: ${(cause as CryptoError).message}`,
    );
  }
  const ok = await verifyLogin(keys.verifyKey, fromBase64Url(frame.sig), {
    server: frame.server.toLowerCase(),
    session: challenge.session,
    nonce: challenge.nonce,
    uid: frame.uid,
    user: frame.user,
    idKey,
    encKey,
  });
  if (!ok) throw new AuthError("auth_failed", "login signature is not valid");
  keys.fingerprint ??= toHex(
    await fingerprintOf({ user: frame.user, uid: frame.uid, idKey, encKey }),
  );
  return { idKey, encKey, checked: keys, fingerprint: keys.fingerprint };
}

/**
 * Admission is decided on the key before the name is claimed, so a key
 * that may not enter cannot register a name either. An invite's use is
 * given back if anything after redeeming it fails.
 */
async function admitAndClaim(
  frame: LoginFrame,
  checker: LoginChecker,
  verified: VerifiedKeys,
): Promise<CheckedLogin> {
  const { admission, registry } = checker;
  const { idKey, encKey, fingerprint } = verified;
  const giveBack = frame.invite
    ? await admission.redeemInvite(frame.invite)
    : null;
  try {
    const problem = await admission.admissionProblem(
      fingerprint,
      idKey,
      giveBack !== null,
    );
    if (problem) throw problem;
    const record = await registry.claim({
      user: frame.user,
      uid: frame.uid,
      idKey,
      encKey,
    });
    // the record holds exactly these keys now: the next login reuses them
    if (record.name === frame.user) checkedByUser.set(record, verified.checked);
    if (giveBack) await admission.admit(fingerprint, "invite");
    return { record, fingerprint };
  } catch (error) {
    await giveBack?.();
    throw error;
  }
}

/** A login's keys, imported and checked, and their fingerprint once known. */
interface CheckedKeys {
  verifyKey: CryptoKey;
  fingerprint?: string;
}

/** Registered users' checked keys: a returning user's login imports nothing. */
const checkedByUser = new WeakMap<UserRecord, CheckedKeys>();

/**
 * Import and check the login's keys, or reuse what the last login of the
 * registered user (`known`) with exactly these keys checked (compared in constant
 * time): the RSA key parse and the Ed25519 import are half a login's crypto.
 */
async function checkedKeys(
  frame: LoginFrame,
  idKey: Uint8Array,
  encKey: Uint8Array,
  known: UserRecord | null,
): Promise<CheckedKeys> {
  const same = known !== null && sameKeys(frame, idKey, encKey, known);
  const cached = same ? checkedByUser.get(known) : undefined;
  if (cached) return cached;
  const keys: CheckedKeys = { verifyKey: await importVerifyKey(idKey) };
  await importEncryptKey(encKey);
  if (same) checkedByUser.set(known, keys);
  return keys;
}
