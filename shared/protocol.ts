/**
 * Every frame type of the wire protocol, with validators that turn an
 * untrusted RawFrame into a typed one or throw ProtocolError. The prose
 * version lives in docs/protocol.md; keep them in step.
 * @module
 */
import { decodeFrameBody, type RawFrame } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { isValidRoom, isValidUsername } from "./names.ts";

/** A room member as the server describes it: name plus public keys (base64url). */
export interface MemberInfo {
  user: string;
  uid: string;
  idKey: string;
  encKey: string;
  online: boolean;
}

/** One sender-key wrap addressed to one recipient. */
export interface KeyWrap {
  to: string;
  wrap: string;
  sig: string;
}

// ---- client → server -------------------------------------------------------

/** Proof of key ownership over the server's challenge. */
export interface LoginFrame {
  t: "login";
  user: string;
  uid: string;
  server: string;
  idKey: string;
  encKey: string;
  sig: string;
  /** The secret of an invite code (base64url), when joining by invite. */
  invite?: string;
}
/** Join (and subscribe to) a public room. */
export interface JoinFrame {
  t: "join";
  room: string;
}
/** Leave a room for good (membership ends; keys rotate for the rest). */
export interface LeaveFrame {
  t: "leave";
  room: string;
}
/** Open the direct-message room with another user. */
export interface DmFrame {
  t: "dm";
  user: string;
}
/** A new sender key for a room, wrapped for each member. */
export interface KeysFrame {
  t: "keys";
  room: string;
  epoch: number;
  roster: number;
  wraps: KeyWrap[];
}
/** An end-to-end encrypted message. `id` is the client's idempotency key. */
export interface SendFrame {
  t: "msg";
  id: string;
  room: string;
  epoch: number;
  counter: number;
  ts: number;
  iv: string;
  ct: string;
  sig: string;
}
/** Ask for the list of rooms. */
export interface ListFrame {
  t: "list";
}
/** Ask for a user's public keys. */
export interface LookupFrame {
  t: "lookup";
  user: string;
}
/**
 * Ask for stored messages of a room you can decrypt: the `limit` newest
 * before `before` (paging back), or the `limit` oldest after `after`
 * (catching up after a reconnect). Exactly one of the two is given.
 */
export interface HistoryFrame {
  t: "history";
  room: string;
  before?: number;
  after?: number;
  limit: number;
}
/** Moderation actions (operators only, except reading the motd). */
export type ModAction =
  | "kick"
  | "ban"
  | "unban"
  | "mute"
  | "unmute"
  | "motd"
  | "allow";

/** A moderation request. `durationMs` absent means "until lifted". */
export interface ModFrame {
  t: "mod";
  action: ModAction;
  user?: string;
  fingerprint?: string;
  reason?: string;
  durationMs?: number;
  text?: string;
}
/** Liveness probe; the peer answers pong with the same n. */
export interface PingFrame {
  t: "ping";
  n: number;
}
/** Answer to ping. */
export interface PongFrame {
  t: "pong";
  n: number;
}

/** Any frame a client may send. */
export type ClientFrame =
  | LoginFrame
  | JoinFrame
  | LeaveFrame
  | DmFrame
  | KeysFrame
  | SendFrame
  | ListFrame
  | LookupFrame
  | HistoryFrame
  | ModFrame
  | PingFrame
  | PongFrame;

// ---- server → client -------------------------------------------------------

/** First frame on every connection: the login challenge. */
export interface HelloFrame {
  t: "hello";
  v: number;
  session: string;
  nonce: string;
  maxFrameBytes: number;
  /** After login, a `keys` frame may be this large (it carries one wrap per member). */
  maxKeysFrameBytes: number;
  maxTextBytes: number;
  /** The per-user message rate: this many at once… (absent from older servers) */
  rateBurst?: number;
  /** …then this many per second (may be fractional). */
  ratePerSecond?: number;
}
/** Login accepted. `rooms` lists rooms the user is already a member of. */
export interface WelcomeFrame {
  t: "welcome";
  session: string;
  user: string;
  rooms: string[];
}
/** You are in `room`; here is its roster. */
export interface JoinedFrame {
  t: "joined";
  room: string;
  roster: number;
  /** The highest sender-key epoch you have used in this room (0 if none). */
  epoch: number;
  members: MemberInfo[];
}
/** You left `room`. */
export interface LeftFrame {
  t: "left";
  room: string;
}
/** Someone joined/left a room (roster changes) or came online/went offline. */
export interface PresenceFrame {
  t: "presence";
  room: string;
  event: "join" | "leave" | "online" | "offline";
  user: string;
  roster: number;
  member?: MemberInfo;
}
/** A sender key wrapped for you. */
export interface KeyFrame {
  t: "key";
  room: string;
  from: string;
  epoch: number;
  roster: number;
  wrap: string;
  sig: string;
}
/** A relayed (or replayed) encrypted message with its room sequence number. */
export interface MessageFrame {
  t: "msg";
  room: string;
  from: string;
  seq: number;
  /** The sender's message id (lets a sender recognise its own message). */
  id: string;
  epoch: number;
  counter: number;
  ts: number;
  iv: string;
  ct: string;
  sig: string;
  history?: boolean;
}
/** The server committed your message `id` as `seq` in `room`. */
export interface AckFrame {
  t: "ack";
  id: string;
  room: string;
  seq: number;
}
/** Something went wrong; `id` names the message it concerns, if any. */
export interface ErrorFrame {
  t: "error";
  code: string;
  message: string;
  id?: string;
  room?: string;
  /** With `bad_epoch`: the highest epoch the server has for you in this room. */
  epoch?: number;
}
/** End of a history answer: how many messages came, whether more exist, and the room's last seq. */
export interface HistoryEndFrame {
  t: "history_end";
  room: string;
  /** "before" when paging back, "after" when catching up. */
  mode: "before" | "after";
  count: number;
  /** True when the page was full: ask again for more. */
  more: boolean;
  /** The room's newest sequence number when this answer was made. */
  lastSeq: number;
  /**
   * The room's oldest stored sequence number (0: none). Sequence numbers
   * are gapless per room, so a client can tell how many stored messages
   * lie below the oldest one it can read. Absent from older servers.
   */
  firstSeq?: number;
}
/** Something the server tells people: message of the day, moderation, results. */
export interface NoticeFrame {
  t: "notice";
  message: string;
  room?: string;
}
/** The server is shutting down (reconnect later). */
export interface ShutdownFrame {
  t: "shutdown";
  message: string;
}
/** Answer to list. */
export interface RoomListFrame {
  t: "rooms";
  rooms: { room: string; members: number; joined: boolean }[];
}
/** Answer to lookup. */
export interface UserFrame {
  t: "user";
  member: MemberInfo;
}

/** Any frame a server may send. */
export type ServerFrame =
  | HelloFrame
  | WelcomeFrame
  | JoinedFrame
  | LeftFrame
  | PresenceFrame
  | KeyFrame
  | MessageFrame
  | AckFrame
  | ErrorFrame
  | RoomListFrame
  | UserFrame
  | HistoryEndFrame
  | ShutdownFrame
  | NoticeFrame
  | PingFrame
  | PongFrame;

// ---- validation --------------------------------------------------------------

const B64 = /^[A-Za-z0-9_-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function fail(frame: RawFrame, what: string): never {
  throw new ProtocolError("bad_frame", `${frame.t}: ${what}`);
}

function str(frame: RawFrame, name: string, max = 256): string {
  const value = frame[name];
  if (typeof value !== "string" || value.length > max) {
    fail(frame, `"${name}" must be a string of at most ${max} characters`);
  }
  return value;
}

function b64(frame: RawFrame, name: string, max: number): string {
  const value = str(frame, name, max);
  if (!B64.test(value) || value.length % 4 === 1) {
    fail(frame, `"${name}" must be base64url`);
  }
  return value;
}

function uint(frame: RawFrame, name: string): number {
  const value = frame[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(frame, `"${name}" must be a non-negative integer`);
  }
  return value;
}

function username(frame: RawFrame, name: string): string {
  const value = str(frame, name, 64);
  if (!isValidUsername(value)) fail(frame, `"${name}" is not a valid username`);
  return value;
}

function room(frame: RawFrame): string {
  const value = str(frame, "room", 80);
  if (!isValidRoom(value)) fail(frame, `"room" is not a valid room name`);
  return value;
}

function uuid(frame: RawFrame, name: string): string {
  const value = str(frame, name, 36);
  if (!UUID.test(value)) fail(frame, `"${name}" must be a lowercase UUID`);
  return value;
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

function parseModFrame(frame: RawFrame): ModFrame {
  const action = str(frame, "action", 16);
  if (!MOD_ACTIONS.has(action)) {
    fail(frame, `unknown action "${action.slice(0, 16)}"`);
  }
  const out: ModFrame = { t: "mod", action: action as ModAction };
  if (frame.user !== undefined) out.user = username(frame, "user");
  if (frame.fingerprint !== undefined) {
    const fp = str(frame, "fingerprint", 128);
    if (!/^[0-9a-fA-F :]+$/.test(fp)) fail(frame, '"fingerprint" must be hex');
    out.fingerprint = fp;
  }
  if (frame.reason !== undefined) out.reason = str(frame, "reason", 256);
  if (frame.durationMs !== undefined) {
    out.durationMs = uint(frame, "durationMs");
  }
  if (frame.text !== undefined) out.text = str(frame, "text", 1024);
  const needsUser = ["kick", "ban", "unban", "mute", "unmute"].includes(action);
  if (needsUser && out.user === undefined) {
    fail(frame, `${action} needs "user"`);
  }
  if (action === "allow" && out.fingerprint === undefined) {
    fail(frame, 'allow needs "fingerprint"');
  }
  return out;
}

/** Largest page of history one request may ask for. */
export const MAX_HISTORY_PAGE = 500;

/** Largest number of wraps accepted in one keys frame (one per member). */
export const MAX_WRAPS_PER_FRAME = 2_000;

/** Largest room: every member's wrap of a sender key fits one `keys` frame. */
export const MAX_ROOM_MEMBERS = MAX_WRAPS_PER_FRAME;

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

/**
 * Validate an untrusted frame from a client. Unknown `t` throws
 * ProtocolError(`unknown_type`); bad fields throw ProtocolError(`bad_frame`).
 * Unknown extra fields are dropped.
 */
export function parseClientFrame(frame: RawFrame): ClientFrame {
  switch (frame.t) {
    case "login":
      return {
        t: "login",
        user: username(frame, "user"),
        uid: uuid(frame, "uid"),
        server: str(frame, "server", 255),
        idKey: b64(frame, "idKey", 64),
        encKey: b64(frame, "encKey", 1024),
        sig: b64(frame, "sig", 128),
        ...(frame.invite !== undefined
          ? { invite: b64(frame, "invite", 64) }
          : {}),
      };
    case "join":
    case "leave":
      return { t: frame.t, room: room(frame) };
    case "dm":
    case "lookup":
      return { t: frame.t, user: username(frame, "user") };
    case "keys": {
      const wraps = frame.wraps;
      if (!Array.isArray(wraps) || wraps.length > MAX_WRAPS_PER_FRAME) {
        fail(
          frame,
          `"wraps" must be an array of at most ${MAX_WRAPS_PER_FRAME}`,
        );
      }
      return {
        t: "keys",
        room: room(frame),
        epoch: uint(frame, "epoch"),
        roster: uint(frame, "roster"),
        wraps: wraps.map((w: unknown): KeyWrap => {
          if (typeof w !== "object" || w === null) fail(frame, "bad wrap");
          const wrap = { ...(w as Record<string, unknown>), t: "wrap" };
          return {
            to: username(wrap, "to"),
            wrap: b64(wrap, "wrap", 1024),
            sig: b64(wrap, "sig", 128),
          };
        }),
      };
    }
    case "msg":
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
    case "list":
      return { t: "list" };
    case "mod":
      return parseModFrame(frame);
    case "history": {
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
    case "ping":
    case "pong":
      return { t: frame.t, n: uint(frame, "n") };
    default:
      throw new ProtocolError(
        "unknown_type",
        `unknown frame type ${JSON.stringify(frame.t.slice(0, 32))}`,
      );
  }
}
