/**
 * Which part of the engine handles which server frame: one small handler
 * per frame type, and the loop that reads a connection's frames, checks
 * each against the protocol and hands it on.
 * @module
 */
import { decodeFrameBody } from "../shared/codec.ts";
import { ProtocolError } from "../shared/errors.ts";
import type { FramedConnection } from "../shared/framed_connection.ts";
import type { JoinedFrame, ServerFrame } from "../shared/protocol.ts";
import type { EngineContext } from "./engine_context.ts";
import type { Membership } from "./membership.ts";
import type { MessageReceiver } from "./message_receiver.ts";
import type { MessageSender } from "./message_sender.ts";
import type { RoomRequests } from "./room_requests.ts";
import type { RoomSync } from "./room_sync.ts";
import { parseServerFrame } from "../shared/server_frames.ts";
import { handleServerError } from "./server_errors.ts";
import type { SessionLogin } from "./session_login.ts";

/** The engine's parts, and the session's current room. */
export interface EngineParts {
  ctx: EngineContext;
  login: SessionLogin;
  sender: MessageSender;
  receiver: MessageReceiver;
  sync: RoomSync;
  membership: Membership;
  requests: RoomRequests;
  /** The room the session was started for. */
  startRoom: string;
  /** The room plain text goes to. */
  current: { get(): string; set(room: string): void };
}

/** One handler per server frame type. */
export type FrameHandlers = {
  [T in ServerFrame["t"]]: (
    frame: Extract<ServerFrame, { t: T }>,
  ) => void | Promise<void>;
};

/** The handlers that route each frame type to its part. */
export function frameRouter(p: EngineParts): FrameHandlers {
  const { say, link } = p.ctx;
  return {
    hello: (f) => p.login.onHello(f, p.sender),
    welcome: (f) => p.login.onWelcome(f),
    joined: (f) => onJoined(p, f),
    left: (f) => {
      p.current.set(p.membership.onLeft(f.room, p.current.get(), p.startRoom));
      p.receiver.forgetRoom(f.room);
    },
    presence: (f) => p.membership.onPresence(f),
    key: (f) => p.receiver.onKey(f),
    msg: (f) => p.receiver.onMessage(f),
    ack: (f) => p.receiver.onAck(f.id, f.room, f.seq),
    history_end: (f) => p.sync.onHistoryEnd(f),
    error: (f) =>
      handleServerError(f, {
        ctx: p.ctx,
        sender: p.sender,
        sync: p.sync,
        everReady: p.login.everReady,
        startRoom: p.startRoom,
        refuse: (error, close) => p.login.refuse(error, close),
      }),
    shutdown: (f) => say.system(`server: ${f.message}`),
    notice: (f) => say.system(`server: ${f.message}`),
    rooms: (f) =>
      say.event({
        type: "rooms",
        rooms: f.rooms.map((r) => ({
          room: r.room,
          members: r.members,
          joined: r.joined,
          current: r.room === p.current.get(),
        })),
      }),
    user: (f) => p.requests.found(f.member),
    ping: (f) => void link.write({ t: "pong", n: f.n }),
    pong: (f) => link.pong(f.n),
  };
}

/** A room's roster: the session may be ready, the room syncs, its messages go. */
async function onJoined(p: EngineParts, frame: JoinedFrame): Promise<void> {
  const { room, firstOnThisConnection } = await p.membership.onJoined(frame);
  p.login.joined(frame.room);
  if (firstOnThisConnection) {
    p.sync.requestSync(room);
    p.sender.resumeRoom(room.name);
  }
  p.requests.joined(frame.room);
}

/**
 * Read `conn`'s frames to its end, one at a time: each is checked (a
 * malformed one is reported and skipped), then `heard` and its handler run.
 */
export async function readFrames(
  conn: FramedConnection,
  handlers: FrameHandlers,
  ctx: EngineContext,
  heard: () => void,
): Promise<void> {
  for await (const body of conn.bodies()) {
    // a body that is not a JSON frame at all fails the connection
    const raw = decodeFrameBody(body);
    let frame: ServerFrame;
    try {
      frame = parseServerFrame(raw);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      ctx.say.error(
        `ignored a malformed frame from the server (${error.message})`,
      );
      continue;
    }
    heard();
    await (handlers[frame.t] as (f: ServerFrame) => unknown)(frame);
  }
}
