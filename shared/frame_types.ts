/**
 * The frame types of the wire protocol, both directions, as plain types
 * (no code): what a client may send and what a server may send. Parsing
 * lives in client_frames.ts and server_frames.ts, the prose in
 * docs/protocol.md; keep the three in step.
 * @module
 */

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
/**
 * An encrypted message as it travels in either direction: its signed header
 * (room, epoch, counter, timestamp; the sender is the logged-in user going
 * up and `from` coming down) and its sealed parts in base64url.
 */
export interface MessageEnvelope {
  room: string;
  epoch: number;
  counter: number;
  ts: number;
  iv: string;
  ct: string;
  sig: string;
}
/** An end-to-end encrypted message. `id` is the client's idempotency key. */
export interface SendFrame extends MessageEnvelope {
  t: "msg";
  id: string;
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
/**
 * Let `user` open a DM with you even when you share no room (`allow`
 * true, /allow-dm), or take that back (false, /deny-dm).
 */
export interface AllowDmFrame {
  t: "allow_dm";
  user: string;
  allow: boolean;
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
  | PongFrame
  | AllowDmFrame;

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
export interface MessageFrame extends MessageEnvelope {
  t: "msg";
  from: string;
  seq: number;
  /** The sender's message id (lets a sender recognise its own message). */
  id: string;
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
