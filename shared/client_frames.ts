/**
 * The client → server direction of the wire: the one encoder a client
 * sends frames with, and the one parser a server reads them with, which
 * turns an untrusted body into a typed ClientFrame or throws ProtocolError.
 * One small reader per frame type, in a table.
 * @module
 */
import { decodeFrameBody, encodeFrame, type RawFrame } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { isFingerprintText, MAX_FINGERPRINT_TEXT } from "./fingerprint.ts";
import {
  b64,
  bool,
  fail,
  room,
  str,
  uint,
  username,
  uuid,
} from "./frame_fields.ts";
import type {
  ClientFrame,
  HistoryFrame,
  KeysFrame,
  KeyWrap,
  LoginFrame,
  ModAction,
  ModFrame,
  SendFrame,
} from "./frame_types.ts";

/** Largest page of history one request may ask for. */
export const MAX_HISTORY_PAGE = 500;

/** Largest number of wraps accepted in one keys frame (one per member). */
export const MAX_WRAPS_PER_FRAME = 2_000;

/** Largest room: every member's wrap of a sender key fits one `keys` frame. */
export const MAX_ROOM_MEMBERS = MAX_WRAPS_PER_FRAME;

/**
 * Encode a frame a client sends: length header + JSON body. Throws
 * RangeError over `maxFrameBytes` (callers must not build such frames).
 * @example
 * ```ts
 * import { encodeClientFrame } from "./client_frames.ts";
 * const bytes = encodeClientFrame({ t: "join", room: "general" });
 * console.assert(bytes.length === 4 + '{"t":"join","room":"general"}'.length);
 * ```
 */
export function encodeClientFrame(
  frame: ClientFrame,
  maxFrameBytes?: number,
): Uint8Array<ArrayBuffer> {
  return encodeFrame(frame, maxFrameBytes);
}

function parseLogin(frame: RawFrame): LoginFrame {
  return {
    t: "login",
    user: username(frame, "user"),
    uid: uuid(frame, "uid"),
    server: str(frame, "server", 255),
    idKey: b64(frame, "idKey", 64),
    encKey: b64(frame, "encKey", 1024),
    sig: b64(frame, "sig", 128),
    ...(frame.invite !== undefined ? { invite: b64(frame, "invite", 64) } : {}),
  };
}

function parseWrap(frame: RawFrame, w: unknown): KeyWrap {
  if (typeof w !== "object" || w === null) fail(frame, "bad wrap");
  const wrap = { ...(w as Record<string, unknown>), t: "wrap" };
  return {
    to: username(wrap, "to"),
    wrap: b64(wrap, "wrap", 1024),
    sig: b64(wrap, "sig", 128),
  };
}

function parseKeys(frame: RawFrame): KeysFrame {
  const wraps = frame.wraps;
  if (!Array.isArray(wraps) || wraps.length > MAX_WRAPS_PER_FRAME) {
    fail(frame, `"wraps" must be an array of at most ${MAX_WRAPS_PER_FRAME}`);
  }
  return {
    t: "keys",
    room: room(frame),
    epoch: uint(frame, "epoch"),
    roster: uint(frame, "roster"),
    wraps: wraps.map((w: unknown) => parseWrap(frame, w)),
  };
}

function parseSend(frame: RawFrame): SendFrame {
  return {
    t: "msg",
    id: uuid(frame, "id"),
    room: room(frame),
    epoch: uint(frame, "epoch"),
    counter: uint(frame, "counter"),
    ts: uint(frame, "ts"),
    iv: b64(frame, "iv", 16),
    ct: b64(frame, "ct", 96 * 1024),
    sig: b64(frame, "sig", 128),
  };
}

function parseHistory(frame: RawFrame): HistoryFrame {
  const hasBefore = frame.before !== undefined;
  const hasAfter = frame.after !== undefined;
  if (hasBefore === hasAfter) {
    fail(frame, 'give exactly one of "before" and "after"');
  }
  const limit = uint(frame, "limit");
  if (limit < 1 || limit > MAX_HISTORY_PAGE) {
    fail(frame, `"limit" must be 1-${MAX_HISTORY_PAGE}`);
  }
  return {
    t: "history",
    room: room(frame),
    ...(hasBefore
      ? { before: uint(frame, "before") }
      : { after: uint(frame, "after") }),
    limit,
  };
}

const MOD_ACTIONS = new Set([
  "kick",
  "ban",
  "unban",
  "mute",
  "unmute",
  "motd",
  "allow",
]);
const ACTIONS_ON_A_USER = new Set(["kick", "ban", "unban", "mute", "unmute"]);

/** The optional fields of a mod frame, each checked if present. */
function modFields(frame: RawFrame, out: ModFrame): void {
  if (frame.user !== undefined) out.user = username(frame, "user");
  if (frame.fingerprint !== undefined) {
    const fp = str(frame, "fingerprint", MAX_FINGERPRINT_TEXT);
    if (!isFingerprintText(fp)) fail(frame, '"fingerprint" must be hex');
    out.fingerprint = fp;
  }
  if (frame.reason !== undefined) out.reason = str(frame, "reason", 256);
  if (frame.durationMs !== undefined) {
    out.durationMs = uint(frame, "durationMs");
  }
  if (frame.text !== undefined) out.text = str(frame, "text", 1024);
}

function parseMod(frame: RawFrame): ModFrame {
  const action = str(frame, "action", 16);
  if (!MOD_ACTIONS.has(action)) {
    fail(frame, `unknown action "${action.slice(0, 16)}"`);
  }
  const out: ModFrame = { t: "mod", action: action as ModAction };
  modFields(frame, out);
  if (ACTIONS_ON_A_USER.has(action) && out.user === undefined) {
    fail(frame, `${action} needs "user"`);
  }
  if (action === "allow" && out.fingerprint === undefined) {
    fail(frame, 'allow needs "fingerprint"');
  }
  return out;
}

/** One reader per client frame type (a Map: `t` is untrusted, "__proto__" included). */
const READERS = new Map<string, (frame: RawFrame) => ClientFrame>([
  ["login", parseLogin],
  ["join", (f) => ({ t: "join", room: room(f) })],
  ["leave", (f) => ({ t: "leave", room: room(f) })],
  ["dm", (f) => ({ t: "dm", user: username(f, "user") })],
  ["lookup", (f) => ({ t: "lookup", user: username(f, "user") })],
  ["keys", parseKeys],
  ["msg", parseSend],
  ["list", () => ({ t: "list" })],
  ["mod", parseMod],
  ["history", parseHistory],
  ["ping", (f) => ({ t: "ping", n: uint(f, "n") })],
  ["pong", (f) => ({ t: "pong", n: uint(f, "n") })],
  ["allow_dm", (f) => ({
    t: "allow_dm",
    user: username(f, "user"),
    allow: bool(f, "allow"),
  })],
]);

/**
 * Validate an untrusted frame from a client. Unknown `t` throws
 * ProtocolError(`unknown_type`); bad fields throw ProtocolError(`bad_frame`).
 * Unknown extra fields are dropped.
 * @example
 * ```ts
 * import { parseClientFrame } from "./client_frames.ts";
 * const frame = parseClientFrame({ t: "join", room: "general", extra: 1 });
 * console.assert(JSON.stringify(frame) === '{"t":"join","room":"general"}');
 * ```
 */
export function parseClientFrame(frame: RawFrame): ClientFrame {
  const read = READERS.get(frame.t);
  if (!read) {
    throw new ProtocolError(
      "unknown_type",
      `unknown frame type ${JSON.stringify(frame.t.slice(0, 32))}`,
    );
  }
  return read(frame);
}

/**
 * Parse and validate one frame body from a logged-in client. A body over
 * `maxFrameBytes` is accepted only as a `keys` frame (a big room's key
 * distribution, bounded by the connection's larger header limit); any other
 * type that large is ProtocolError(`too_large`), before its fields are read.
 */
export function parseClientBody(
  body: Uint8Array,
  maxFrameBytes: number,
): ClientFrame {
  const raw = decodeFrameBody(body);
  if (body.length > maxFrameBytes && raw.t !== "keys") {
    throw new ProtocolError(
      "too_large",
      `frame of ${body.length} bytes exceeds the ${maxFrameBytes}-byte limit`,
    );
  }
  return parseClientFrame(raw);
}
