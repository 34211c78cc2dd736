/**
 * The server → client direction of the wire: the one encoder a server
 * sends frames with, and the one parser a client reads them with. The
 * client does not trust the server either, so names and numbers are
 * checked before they reach state or the screen (everything secret is
 * checked cryptographically anyway).
 * @module
 */
import { decodeFrameBody, encodeFrame, type RawFrame } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import type { ServerFrame } from "./frame_types.ts";
import { isValidRoom, isValidUsername } from "./names.ts";

/**
 * Encode a frame a server sends: length header + JSON body. Throws
 * RangeError over `maxFrameBytes` (callers must not build such frames).
 * @example
 * ```ts
 * import { encodeServerFrame } from "./server_frames.ts";
 * const bytes = encodeServerFrame({ t: "left", room: "general" });
 * console.assert(bytes.length === 4 + '{"t":"left","room":"general"}'.length);
 * ```
 */
export function encodeServerFrame(
  frame: ServerFrame,
  maxFrameBytes?: number,
): Uint8Array<ArrayBuffer> {
  return encodeFrame(frame, maxFrameBytes);
}

const KNOWN = new Set([
  "hello",
  "welcome",
  "joined",
  "left",
  "presence",
  "key",
  "msg",
  "ack",
  "error",
  "rooms",
  "user",
  "history_end",
  "shutdown",
  "notice",
  "ping",
  "pong",
]);

const NUMBERS = [
  "seq",
  "epoch",
  "counter",
  "ts",
  "roster",
  "count",
  "lastSeq",
  "firstSeq",
  "rateBurst",
  "n",
];
const STRINGS = [
  "iv",
  "ct",
  "sig",
  "wrap",
  "message",
  "code",
  "id",
  "nonce",
  "session",
];

function memberOk(m: unknown): boolean {
  if (typeof m !== "object" || m === null) return false;
  const member = m as Record<string, unknown>;
  return typeof member.user === "string" && isValidUsername(member.user) &&
    typeof member.uid === "string" && typeof member.idKey === "string" &&
    typeof member.encKey === "string";
}

/** The first field, of those any frame type may carry, with the wrong type. */
function fieldProblem(frame: RawFrame): string | null {
  if (
    "room" in frame &&
    (typeof frame.room !== "string" || !isValidRoom(frame.room))
  ) {
    return "bad room name";
  }
  for (const field of ["from", "user"]) {
    if (
      field in frame &&
      (typeof frame[field] !== "string" ||
        !isValidUsername(frame[field] as string))
    ) {
      return `bad ${field}`;
    }
  }
  for (const field of NUMBERS) {
    const v = frame[field];
    if (
      field in frame &&
      (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    ) {
      return `bad ${field}`;
    }
  }
  for (const field of STRINGS) {
    if (field in frame && typeof frame[field] !== "string") {
      return `bad ${field}`;
    }
  }
  return null;
}

/** The first problem with members, limits and room lists. */
function shapeProblem(frame: RawFrame): string | null {
  if (
    "members" in frame &&
    (!Array.isArray(frame.members) || !frame.members.every(memberOk))
  ) {
    return "bad members";
  }
  if ("member" in frame && !memberOk(frame.member)) return "bad member";
  if (
    frame.t === "hello" &&
    !(typeof frame.maxTextBytes === "number" && frame.maxTextBytes > 0)
  ) {
    return "bad maxTextBytes";
  }
  if (
    "ratePerSecond" in frame &&
    !(typeof frame.ratePerSecond === "number" &&
      Number.isFinite(frame.ratePerSecond) && frame.ratePerSecond > 0)
  ) {
    return "bad ratePerSecond";
  }
  return roomListProblem(frame);
}

/** welcome's room names, and the rooms answer's entries. */
function roomListProblem(frame: RawFrame): string | null {
  if ("rooms" in frame && frame.t === "welcome") {
    if (
      !Array.isArray(frame.rooms) ||
      !frame.rooms.every((r) => typeof r === "string" && isValidRoom(r))
    ) {
      return "bad rooms";
    }
  }
  if (frame.t === "rooms") {
    const ok = Array.isArray(frame.rooms) &&
      frame.rooms.every((r) =>
        typeof r === "object" && r !== null && typeof r.room === "string" &&
        isValidRoom(r.room) &&
        Number.isSafeInteger(r.members) && r.members >= 0 &&
        typeof r.joined === "boolean"
      );
    if (!ok) return "bad room list";
  }
  return null;
}

function unknownType(frame: RawFrame): string {
  return `unknown frame type ${JSON.stringify(frame.t.slice(0, 20))}`;
}

/**
 * Why `frame` cannot be a valid server frame, or null if it looks right.
 * @example
 * ```ts
 * import { serverFrameProblem } from "./server_frames.ts";
 * console.assert(serverFrameProblem({ t: "left", room: "general" }) === null);
 * console.assert(serverFrameProblem({ t: "left", room: 7 }) === "bad room name");
 * ```
 */
export function serverFrameProblem(frame: RawFrame): string | null {
  if (!KNOWN.has(frame.t)) return unknownType(frame);
  return fieldProblem(frame) ?? shapeProblem(frame);
}

/** Narrow a frame serverFrameProblem found nothing wrong with. */
export function asServerFrame(frame: RawFrame): ServerFrame {
  return frame as unknown as ServerFrame;
}

/**
 * Check an untrusted frame from the server and type it. Throws
 * ProtocolError: `unknown_type` for a type no server sends, `bad_frame`
 * for a bad field; the message is serverFrameProblem's.
 */
export function parseServerFrame(frame: RawFrame): ServerFrame {
  const problem = serverFrameProblem(frame);
  if (problem !== null) {
    const code = KNOWN.has(frame.t) ? "bad_frame" : "unknown_type";
    throw new ProtocolError(code, problem);
  }
  return asServerFrame(frame);
}

/**
 * Decode and check one frame body from the server. Throws ProtocolError
 * (`bad_frame`) for a body that is not a JSON frame object, and as
 * parseServerFrame for one that is not a server frame.
 * @example
 * ```ts
 * import { parseServerBody } from "./server_frames.ts";
 * const body = new TextEncoder().encode('{"t":"ping","n":3}');
 * console.assert(parseServerBody(body).t === "ping");
 * ```
 */
export function parseServerBody(body: Uint8Array): ServerFrame {
  return parseServerFrame(decodeFrameBody(body));
}
