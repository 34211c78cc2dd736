/**
 * A first check of frames from the server: the client does not trust the
 * server either, so names and numbers are checked before they reach state
 * or the screen. (Everything secret is checked cryptographically anyway.)
 * @module
 */
import type { RawFrame } from "../shared/codec.ts";
import { isValidRoom, isValidUsername } from "../shared/names.ts";
import type { ServerFrame } from "../shared/protocol.ts";

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

/** Why `frame` cannot be a valid server frame, or null if it looks right. */
export function serverFrameProblem(frame: RawFrame): string | null {
  if (!KNOWN.has(frame.t)) {
    return `unknown frame type ${JSON.stringify(frame.t.slice(0, 20))}`;
  }
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

/** Narrow a checked frame. */
export function asServerFrame(frame: RawFrame): ServerFrame {
  return frame as unknown as ServerFrame;
}
