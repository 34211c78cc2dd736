/**
 * The chat hub: sessions coming and going, and each frame of a logged-in
 * session handed to the part whose job it is (a table of small handlers).
 * Rooms and presence are RoomMembership's; keys and messages the
 * MessageRelay's; stored history HistoryReplay's; operators' commands
 * Moderation's; who may log in and speak Admission's. It sees sessions only
 * through a small interface (a user record and a frame sink), so it knows
 * nothing of sockets or TLS.
 * @module
 */
import { ProtocolError } from "../shared/errors.ts";
import { dmParticipants } from "../shared/names.ts";
import type { ClientFrame } from "../shared/protocol.ts";
import { Admission } from "./admission.ts";
import { HistoryReplay } from "./history_replay.ts";
import { type HubOptions, type HubSession, HubState } from "./hub_state.ts";
import { MessageRelay } from "./message_relay.ts";
import { Moderation } from "./moderation.ts";
import { UserRegistry } from "./registry.ts";
import { RoomMembership } from "./room_membership.ts";
import { RoomState } from "./room_state.ts";
import type { ModerationStore } from "./store/moderation_store.ts";
import type { HistoryStore } from "./store/history_store.ts";

export type { HubSession } from "./hub_state.ts";
export { frameBytes } from "./hub_state.ts";

/** Handles one kind of frame from a logged-in session. */
type FrameHandler<T extends ClientFrame["t"]> = (
  session: HubSession,
  frame: Extract<ClientFrame, { t: T }>,
) => Promise<void> | void;

/** One handler for every kind of client frame. */
type FrameHandlers = { [T in ClientFrame["t"]]: FrameHandler<T> };

/** Rooms, presence and relay for all sessions of one server. */
export class ChatHub {
  #state: HubState;
  #rooms: RoomMembership;
  #relay: MessageRelay;
  #history: HistoryReplay;
  #moderation: Moderation;
  #handlers: FrameHandlers;

  private constructor(state: HubState, store: ModerationStore) {
    this.#state = state;
    this.#rooms = new RoomMembership(state);
    this.#relay = new MessageRelay(state);
    this.#history = new HistoryReplay(state);
    this.#moderation = new Moderation(state, store, this.#rooms);
    this.#handlers = this.#frameHandlers();
  }

  /** Load rooms from the store and return a ready hub. */
  static async open(
    store: HistoryStore & ModerationStore,
    options: HubOptions,
  ): Promise<ChatHub> {
    const admission = new Admission(store, options.ops, options.inviteOnly);
    const state = new HubState(
      store,
      new UserRegistry(store),
      options,
      admission,
    );
    for (const r of await store.listRooms()) {
      state.rooms.set(
        r.room,
        new RoomState(r.room, r.roster, r.lastSeq, r.members),
      );
    }
    return new ChatHub(state, store);
  }

  /** The per-user message rate every session is told at login (hello). */
  get messageRate(): { burst: number; perSecond: number } {
    const o = this.#state.options;
    return { burst: o.rateBurst, perSecond: o.ratePerSecond };
  }

  /** Admission: invites, bans and the allowlist at login. */
  get admission(): Admission {
    return this.#state.admission;
  }

  /** The user registry (login claims). */
  get registry(): UserRegistry {
    return this.#state.registry;
  }

  /** Number of logged-in connections. */
  get sessionCount(): number {
    let n = 0;
    for (const set of this.#state.online.values()) n += set.size;
    return n;
  }

  /** Tell every session the server is going away (before closing them). */
  announceShutdown(message: string): void {
    for (const session of this.sessions()) {
      this.#state.send(session, { t: "shutdown", message });
    }
  }

  /** Every logged-in session (for shutdown). */
  sessions(): HubSession[] {
    return this.#state.sessions();
  }

  /** A session finished logging in: mark online, send its rooms. */
  async attach(session: HubSession): Promise<void> {
    const key = session.user.userKey;
    let sessions = this.#state.online.get(key);
    const cameOnline = !sessions;
    if (!sessions) this.#state.online.set(key, sessions = new Set());
    sessions.add(session);
    const rooms = this.#rooms.roomsOf(key);
    this.#state.send(session, {
      t: "welcome",
      session: session.id,
      user: session.user.name,
      rooms: rooms.map((r) => r.name),
    });
    await this.#moderation.greet(session);
    for (const room of rooms) {
      await this.#rooms.sendJoined(session, room);
      if (cameOnline) {
        this.#rooms.presence(room, "online", session.user, session);
      }
      // a user in many rooms (anyone can open a DM with anyone) must not
      // overflow their own send queue by logging in: let it drain
      if (session.sink.queuedBytes > this.#state.options.maxQueueBytes / 2) {
        await session.sink.drain();
      }
    }
  }

  /** A session ended: mark offline when it was the user's last one. */
  detach(session: HubSession): void {
    const key = session.user.userKey;
    const sessions = this.#state.online.get(key);
    if (!sessions?.delete(session)) return;
    if (sessions.size > 0) return;
    this.#state.online.delete(key);
    for (const room of this.#rooms.roomsOf(key)) {
      this.#rooms.presence(room, "offline", session.user, session);
    }
  }

  /** Handle one validated frame from a logged-in session. */
  async handle(session: HubSession, frame: ClientFrame): Promise<void> {
    const handler = this.#handlers[frame.t] as FrameHandler<ClientFrame["t"]>;
    await this.#state.frameLimits.admit(
      session.user.userKey,
      frame.t,
      // a refused join, leave or history request answers that room's wait
      "room" in frame && frame.t !== "keys" ? frame.room : undefined,
    );
    await handler(session, frame);
  }

  #frameHandlers(): FrameHandlers {
    return {
      join: (s, f) => this.#rooms.join(s, f.room),
      leave: (s, f) => this.#rooms.leave(s, f.room),
      dm: (s, f) => this.#rooms.openDm(s, f.user),
      keys: (s, f) => this.#relay.keys(s, f),
      msg: (s, f) => this.#relay.message(s, f),
      history: (s, f) => this.#history.replay(s, f),
      mod: (s, f) => this.#moderation.handle(s, f),
      list: (s) => this.#list(s),
      lookup: (s, f) => this.#lookup(s, f.user),
      ping: (s, f) => this.#state.send(s, { t: "pong", n: f.n }),
      pong: () => {},
      allow_dm: (s, f) => this.#rooms.allowDm(s, f.user, f.allow),
      login: () => {
        throw new ProtocolError("bad_frame", "already logged in");
      },
    };
  }

  #list(session: HubSession): void {
    const key = session.user.userKey;
    const rooms = [...this.#state.rooms.values()]
      .filter((r) => !dmParticipants(r.name) || r.members.has(key))
      .filter((r) => r.members.size > 0 || r.members.has(key))
      .map((r) => ({
        room: r.name,
        members: r.members.size,
        joined: r.members.has(key),
      }))
      .sort((a, b) => a.room.localeCompare(b.room));
    this.#state.send(session, { t: "rooms", rooms });
  }

  async #lookup(session: HubSession, name: string): Promise<void> {
    const user = await this.#state.registry.get(name);
    if (!user) throw new ProtocolError("no_such_user", `no user ${name}`);
    this.#state.send(session, { t: "user", member: this.#state.member(user) });
  }
}
