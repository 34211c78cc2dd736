/**
 * What the client does with an `error` frame: a table of steps tried in
 * order (a refused login or a kick ends the session; a stale key rotates;
 * a refused message is sent again or dropped; waiting requests are
 * released), then the text the user reads: the server says what happened,
 * the client adds what to type.
 * @module
 */
import { ProtocolError } from "../shared/errors.ts";
import type { ErrorFrame } from "../shared/protocol.ts";
import type { EngineContext } from "./engine_context.ts";
import type { MessageSender } from "./message_sender.ts";
import type { RoomSync } from "./room_sync.ts";
import type { RoomView } from "./room_view.ts";

/** What the error steps may look at and change. */
export interface ErrorScene {
  readonly ctx: EngineContext;
  readonly sender: MessageSender;
  readonly sync: RoomSync;
  /** Logged in and in the first room at least once. */
  readonly everReady: boolean;
  /** The room this session was started for. */
  readonly startRoom: string;
  /** The server refused the session: stop (and close the connection if asked). */
  refuse(error: ProtocolError, close: boolean): void;
}

/** "done": nothing more to do; "next": the following steps apply too. */
type Step = (
  frame: ErrorFrame,
  scene: ErrorScene,
  room: RoomView | undefined,
) => "done" | "next";

/** Errors after which the session ends instead of reconnecting. */
const TERMINAL = new Set(["kicked", "banned"]);
/** Errors that answer a join (or DM) that is waiting, whichever room it was for. */
const ENDS_ROOM_WAITS = new Set([
  "no_such_user",
  "bad_room",
  "not_member",
  "bad_frame",
  "dm_refused",
  "rate_limited",
]);

/**
 * What to type, by error code, after the server's own words: the server
 * says what happened and knows nothing of the client's commands.
 */
const WHAT_TO_TYPE: Readonly<Record<string, string>> = {
  not_member: "/join it first",
  history_unavailable: "try /load again later",
  quota_exceeded: "an operator can raise it with chat serve --quota",
  not_operator:
    "operators are named with chat serve --op FINGERPRINT (chat id shows one)",
  rate_limited: "wait that long, then do it again",
  dm_refused:
    "talk in a shared room first, or ask them to type /allow-dm followed by your name",
  bad_room: "a direct-message room is opened with /msg USER or /query USER",
};

const refusal = (frame: ErrorFrame) =>
  new ProtocolError(frame.code, frame.message, {
    ...(frame.room !== undefined ? { room: frame.room } : {}),
  });

const STEPS: readonly Step[] = [
  // the room this session was started for cannot be joined: stop, do not
  // reconnect to be refused again
  (frame, scene) => {
    if (
      scene.everReady || frame.room !== scene.startRoom ||
      frame.code !== "room_full"
    ) return "next";
    scene.refuse(refusal(frame), true);
    return "done";
  },
  // refused before we were in: a login failure
  (frame, scene) => {
    const { link, rooms } = scene.ctx;
    const anyLive = scene.everReady || [...rooms.values()].some((r) => r.live);
    if (link.connected && (anyLive || frame.id || frame.room)) return "next";
    scene.refuse(refusal(frame), false);
    return "done";
  },
  // kicked or banned: reconnecting would only be refused again
  (frame, scene) => {
    if (!TERMINAL.has(frame.code)) return "next";
    scene.ctx.say.error(frame.message);
    scene.refuse(refusal(frame), true);
    return "done";
  },
  (frame, _scene, room) => {
    if (!room) return "next";
    if (frame.code === "stale_roster") room.invalidateKey();
    else if (frame.code === "bad_epoch") room.skipPastEpoch(frame.epoch ?? 0);
    else return "next";
    return "done";
  },
  (frame, scene, room) => {
    const failed = frame.code === "history_unavailable" ||
      frame.code === "not_member" || frame.code === "rate_limited";
    // the history request failed: stop waiting for it
    if (room?.historyMode && failed) scene.sync.failed(room);
    // the server may not have our key: send a new one next time
    if (room && frame.code === "store_unavailable") room.invalidateKey();
    return "next";
  },
  (frame, scene, room) => {
    if (!frame.id) return "next";
    const outcome = scene.sender.refused(frame.id, frame.code, room);
    return outcome === "retried" ? "done" : "next";
  },
  (frame, scene) => {
    const { pending } = scene.ctx;
    if (frame.code === "rate_limited" && pending.hasPrefix("user:")) {
      pending.giveUp("user:"); // a refused lookup: stop waiting for it
    }
    if (frame.code === "no_such_user" && pending.hasPrefix("user:")) {
      pending.giveUp("user:");
      return "done"; // the caller reports "no user named …"
    }
    // an answer about a room someone waits to join: it was not joined
    if (frame.room) pending.giveUp(`room:${frame.room}\u0000`);
    if (ENDS_ROOM_WAITS.has(frame.code)) pending.giveUp("room:");
    return "next";
  },
];

/** Handle an `error` frame from the server. */
export function handleServerError(frame: ErrorFrame, scene: ErrorScene): void {
  const room = frame.room ? scene.ctx.rooms.get(frame.room) : undefined;
  for (const step of STEPS) {
    if (step(frame, scene, room) === "done") return;
  }
  scene.ctx.say.error(errorText(frame));
}

/** The server's words, and what to type about it where the client knows. */
export function errorText(frame: Pick<ErrorFrame, "code" | "message">): string {
  const hint = WHAT_TO_TYPE[frame.code];
  return hint ? `${frame.message}; ${hint}` : frame.message;
}
