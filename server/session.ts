/**
 * One client connection from TLS handshake to close: the handshake
 * deadline, the login challenge, then frame dispatch to the hub.
 * @module
 */
import {
  AuthError,
  type CryptoError,
  ProtocolError,
} from "../shared/errors.ts";
import {
  constantTimeEqual,
  fromBase64Url,
  toBase64Url,
  toHex,
} from "../shared/bytes.ts";
import { parseClientBody } from "../shared/protocol.ts";
import type { LoginFrame, ServerFrame } from "../shared/protocol.ts";
import { PROTOCOL_VERSION } from "../shared/limits.ts";
import {
  fingerprint as fingerprintOf,
  importEncryptKey,
  importVerifyKey,
} from "../shared/crypto/identity.ts";
import { verifyLogin } from "../shared/crypto/login.ts";
import type { FramedConnection } from "../shared/framed_connection.ts";
import type { LoginThrottle } from "./login_throttle.ts";
import { type ChatHub, frameBytes, type HubSession } from "./hub.ts";
import { StoreError, type UserRecord } from "./store/history_store.ts";

/** Settings for each connection. */
export interface SessionOptions {
  /** Names this server answers to (the certificate's SANs). */
  serverNames: string[];
  maxFrameBytes: number;
  /** A logged-in session's `keys` frame may be this large (one wrap per member). */
  maxKeysFrameBytes: number;
  maxTextBytes: number;
  maxQueueBytes: number;
  /** TLS handshake + login must finish within this many ms of accepting. */
  loginTimeoutMs: number;
  log: (line: string) => void;
  /** If set, every received frame body is passed here (debug tracing). */
  traceFrame?: (body: Uint8Array) => void;
  /** Failed logins per address. */
  loginThrottle: LoginThrottle;
}

/** What the session tells the connection tracker. */
export interface ConnectionHooks {
  /** The peer's IP address. */
  ip: string;
  /** Called for every frame received (the peer is alive). */
  heard(): void;
  /** When the TCP connection was accepted (ms since epoch). */
  acceptedAt: number;
}

/** Serve one accepted (handshaken) TLS connection until it closes. Never throws. */
export async function serveConnection(
  framed: FramedConnection,
  hub: ChatHub,
  options: SessionOptions,
  hooks: ConnectionHooks,
): Promise<void> {
  const sessionId = crypto.randomUUID();
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  let session: HubSession | null = null;
  // One deadline from accept: the handshake's time counts against the login.
  const loginTimer = setTimeout(() => {
    if (!session) framed.close();
  }, Math.max(0, options.loginTimeoutMs - (Date.now() - hooks.acceptedAt)));
  const send = (frame: ServerFrame) => framed.send(frameBytes(frame));
  try {
    send({
      t: "hello",
      v: PROTOCOL_VERSION,
      session: sessionId,
      nonce: toBase64Url(nonce),
      maxFrameBytes: options.maxFrameBytes,
      maxKeysFrameBytes: options.maxKeysFrameBytes,
      maxTextBytes: options.maxTextBytes,
      // so a client can pace itself instead of being refused
      rateBurst: hub.messageRate.burst,
      ratePerSecond: hub.messageRate.perSecond,
    });
    let nonceUsed = false;
    for await (const body of framed.bodies()) {
      hooks.heard();
      // Backpressure: while this peer's own answers pile up, stop reading
      // from it (a peer that never reads is dropped by the write deadline).
      if (framed.queuedBytes > options.maxQueueBytes / 2) await framed.drain();
      options.traceFrame?.(body);
      let frame;
      try {
        frame = parseClientBody(body, options.maxFrameBytes);
      } catch (error) {
        const e = error as ProtocolError;
        send({ t: "error", code: e.code, message: e.message });
        if (e.code === "unknown_type" && session) continue;
        break; // malformed frames close the connection
      }
      if (!session) {
        if (frame.t !== "login" || nonceUsed) {
          send({ t: "error", code: "auth_required", message: "log in first" });
          break;
        }
        nonceUsed = true;
        if (options.loginThrottle.blocked(hooks.ip)) {
          send({
            t: "error",
            code: "too_many_failures",
            message:
              "too many failed logins from your address; wait a minute and try again",
          });
          options.log(
            `login refused for ${frame.user}: too many failures from ${hooks.ip}`,
          );
          break;
        }
        try {
          const user = await checkLogin(frame, hub, options, sessionId, nonce);
          clearTimeout(loginTimer);
          // only a logged-in user may send a big room's key distribution
          framed.setMaxFrameBytes(
            Math.max(options.maxFrameBytes, options.maxKeysFrameBytes),
          );
          session = {
            id: sessionId,
            user: user.record,
            fingerprint: user.fingerprint,
            sink: framed,
            sentKeys: new Set(),
            joinedRooms: new Set(),
          };
          options.log(`${user.record.name} logged in (session ${sessionId})`);
          await hub.attach(session);
        } catch (error) {
          if (error instanceof AuthError) {
            options.loginThrottle.recordFailure(hooks.ip);
            send({ t: "error", code: error.code, message: error.message });
            options.log(`login refused for ${frame.user}: ${error.code}`);
          } else {
            send({
              t: "error",
              code: "internal",
              message:
                "login failed because of a server error; try again later",
            });
            options.log(
              `login failed for ${frame.user}: ${(error as Error).message}`,
            );
          }
          break;
        }
        continue;
      }
      try {
        await hub.handle(session, frame);
      } catch (error) {
        send(errorFrame(error));
        if (error instanceof StoreError) {
          options.log(`storage failure: ${error.message}`);
        } else if (!(error instanceof ProtocolError)) {
          options.log(`internal error: ${(error as Error).stack ?? error}`);
        }
      }
    }
    await framed.drain();
  } catch (error) {
    if (error instanceof ProtocolError) {
      send({ t: "error", code: error.code, message: error.message });
      await framed.drain();
    } else {
      options.log(`connection error: ${(error as Error).message}`);
    }
  } finally {
    clearTimeout(loginTimer);
    if (session) {
      hub.detach(session);
      options.log(`${session.user.name} disconnected (session ${sessionId})`);
    }
    framed.close();
  }
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

function errorFrame(error: unknown): ServerFrame {
  if (error instanceof ProtocolError) {
    const extra = error.subject;
    return {
      t: "error",
      code: error.code,
      message: error.message,
      ...(extra.id !== undefined ? { id: extra.id } : {}),
      ...(extra.room !== undefined ? { room: extra.room } : {}),
      ...(extra.epoch !== undefined ? { epoch: extra.epoch } : {}),
    };
  }
  if (error instanceof StoreError) {
    return {
      t: "error",
      code: "store_unavailable",
      message:
        "the server could not store that; it was not delivered, try again",
    };
  }
  return { t: "error", code: "internal", message: "internal server error" };
}

async function checkLogin(
  frame: LoginFrame,
  hub: ChatHub,
  options: SessionOptions,
  session: string,
  nonce: Uint8Array,
): Promise<{ record: UserRecord; fingerprint: string }> {
  const server = frame.server.toLowerCase();
  if (!options.serverNames.some((n) => nameMatches(n, server))) {
    throw new AuthError(
      "wrong_server",
      `this server is not "${frame.server}"; connect with one of: ${
        options.serverNames.join(", ")
      }`,
    );
  }
  // read before the key checks: a store failure is not a bad key
  const known = await hub.registry.get(frame.user);
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
  const { verifyKey } = keys;
  const ok = await verifyLogin(verifyKey, fromBase64Url(frame.sig), {
    server,
    session,
    nonce,
    uid: frame.uid,
    user: frame.user,
    idKey,
    encKey,
  });
  if (!ok) throw new AuthError("auth_failed", "login signature is not valid");
  // Admission is decided on the key before the name is claimed, so a key
  // that may not enter cannot register a name either.
  keys.fingerprint ??= toHex(
    await fingerprintOf({ user: frame.user, uid: frame.uid, idKey, encKey }),
  );
  const fingerprint = keys.fingerprint;
  const admission = hub.admission;
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
    const record = await hub.registry.claim({
      user: frame.user,
      uid: frame.uid,
      idKey,
      encKey,
    });
    // the record holds exactly these keys now: the next login reuses them
    if (record.name === frame.user) checkedByUser.set(record, keys);
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
  const same = known !== null && known.uid === frame.uid &&
    known.name === frame.user &&
    constantTimeEqual(known.idKey, idKey) &&
    constantTimeEqual(known.encKey, encKey);
  const cached = same ? checkedByUser.get(known) : undefined;
  if (cached) return cached;
  const keys: CheckedKeys = { verifyKey: await importVerifyKey(idKey) };
  await importEncryptKey(encKey);
  if (same) checkedByUser.set(known, keys);
  return keys;
}
