/**
 * Requests about rooms and people that wait for the server's answer:
 * joining a room, opening a direct-message room, looking a user up, the
 * room list and moderation (answered once the server's pong comes back).
 * @module
 */
import { dmRoomName, userKey } from "../shared/names.ts";
import type { MemberInfo, ModFrame } from "../shared/protocol.ts";
import type { EngineContext } from "./engine_context.ts";

/** A joined room's waiters are keyed `room:NAME\0` (the \0 ends the name). */
export const roomKey = (room: string): string => `room:${room}\u0000`;

/** Requests to the server, each resolving with its answer. */
export class RoomRequests {
  #ctx: EngineContext;

  /** Requests over the shared engine state. */
  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** Join `room`; resolves whether it was joined (an error was reported if not). */
  async join(room: string): Promise<boolean> {
    const joined = this.#ctx.pending.wait(roomKey(room), false);
    this.#ctx.link.write({ t: "join", room });
    if (!await joined) return false;
    const size = this.#ctx.rooms.get(room)?.members.size ?? 0;
    this.#ctx.say.system(
      `now talking in ${this.#ctx.say.label(room)} (${size} member${
        size === 1 ? "" : "s"
      })`,
    );
    return true;
  }

  /** Open (or find) the DM room with `user`: its name, or null if refused. */
  async openDirect(user: string): Promise<string | null> {
    const room = dmRoomName(this.#ctx.me, user);
    if (this.#ctx.rooms.has(room)) return room;
    const opened = this.#ctx.pending.wait(roomKey(room), false);
    this.#ctx.link.write({ t: "dm", user });
    return await opened ? room : null;
  }

  /** `room` was joined on this connection: whoever waits for it may go on. */
  joined(room: string): void {
    this.#ctx.pending.answer(roomKey(room), true);
  }

  /** A user's public keys; null if there is no such user (or no answer). */
  lookup(user: string): Promise<MemberInfo | null> {
    if (!this.#ctx.link.connected) return Promise.resolve(null);
    const found = this.#ctx.pending.wait<MemberInfo | null>(
      `user:${userKey(user)}`,
      null,
    );
    this.#ctx.link.write({ t: "lookup", user });
    return found;
  }

  /** The server's answer to a lookup. */
  found(member: MemberInfo): void {
    this.#ctx.pending.answer(`user:${userKey(member.user)}`, member);
  }

  /** Ask for the room list; resolves once the answer was reported. */
  listRooms(): Promise<void> {
    this.#ctx.link.write({ t: "list" });
    return this.#ctx.link.barrier();
  }

  /** Send a moderation request; resolves once the server has answered it. */
  moderate(frame: ModFrame): Promise<void> {
    this.#ctx.link.write(frame);
    return this.#ctx.link.barrier();
  }
}
