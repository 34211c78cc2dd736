/**
 * The chat hub: sessions coming and going, rooms, membership and presence.
 * Keys, messages and history are the MessageRelay's. It sees sessions only
 * through a small interface (a user record and a frame sink), so it knows
 * nothing of sockets or TLS.
 * @module
 */
import { ProtocolError } from "../shared/errors.ts";
import { dmParticipants, dmRoomName } from "../shared/names.ts";
import {
  type ClientFrame,
  MAX_ROOM_MEMBERS,
  type MemberInfo,
} from "../shared/protocol.ts";
import {
  frameBytes,
  type HubOptions,
  type HubSession,
  HubState,
} from "./hub_state.ts";
import { MessageRelay } from "./message_relay.ts";
import { Moderation } from "./moderation.ts";
import type { ModerationStore } from "./store/moderation_store.ts";
import { UserRegistry } from "./registry.ts";
import { RoomState } from "./room_state.ts";
import type { HistoryStore, UserRecord } from "./store/history_store.ts";

export type { HubSession } from "./hub_state.ts";
export { frameBytes } from "./hub_state.ts";

/** Rooms, presence and relay for all sessions of one server. */
export class ChatHub {
  #state: HubState;
  #relay: MessageRelay;
  /** Room name → joins waiting for the store (they count toward the cap). */
  #joining = new Map<string, number>();

  private constructor(state: HubState, store: HistoryStore & ModerationStore) {
    this.#state = state;
    this.#relay = new MessageRelay(state);
    state.moderation = new Moderation(
      state,
      store,
      state.options.ops,
      state.options.inviteOnly,
      (user) => this.removeFromAllRooms(user),
    );
  }

  /** Load rooms from the store and return a ready hub. */
  static async open(
    store: HistoryStore & ModerationStore,
    options: HubOptions,
  ): Promise<ChatHub> {
    const hub = new ChatHub(
      new HubState(store, new UserRegistry(store), options),
      store,
    );
    for (const r of await store.listRooms()) {
      hub.#state.rooms.set(
        r.room,
        new RoomState(r.room, r.roster, r.lastSeq, r.members),
      );
    }
    return hub;
  }

  /** The per-user message rate every session is told at login (hello). */
  get messageRate(): { burst: number; perSecond: number } {
    const o = this.#state.options;
    return { burst: o.rateBurst, perSecond: o.ratePerSecond };
  }

  /** Moderation: admission, invites, sanctions. */
  get moderation(): Moderation {
    return this.#state.moderation;
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
    return [...this.#state.online.values()].flatMap((set) => [...set]);
  }

  /** A session finished logging in: mark online, send its rooms. */
  async attach(session: HubSession): Promise<void> {
    const key = session.user.userKey;
    let sessions = this.#state.online.get(key);
    const cameOnline = !sessions;
    if (!sessions) this.#state.online.set(key, sessions = new Set());
    sessions.add(session);
    const rooms = this.#roomsOf(key);
    this.#state.send(session, {
      t: "welcome",
      session: session.id,
      user: session.user.name,
      rooms: rooms.map((r) => r.name),
    });
    await this.#state.moderation.greet(session);
    for (const room of rooms) {
      await this.#sendJoined(session, room);
      if (cameOnline) this.#presence(room, "online", session.user, session);
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
    for (const room of this.#roomsOf(key)) {
      this.#presence(room, "offline", session.user, session);
    }
  }

  /** Handle one validated frame from a logged-in session. */
  async handle(session: HubSession, frame: ClientFrame): Promise<void> {
    switch (frame.t) {
      case "join":
        if (dmParticipants(frame.room)) {
          throw new ProtocolError(
            "bad_room",
            "direct-message rooms are opened with a dm frame (/msg USER)",
          );
        }
        return await this.#join(session, frame.room);
      case "leave":
        return await this.#leave(session, frame.room);
      case "dm":
        return await this.#openDm(session, frame.user);
      case "keys":
        return await this.#relay.keys(session, frame);
      case "msg":
        return await this.#relay.message(session, frame);
      case "history":
        return await this.#relay.history(session, frame);
      case "mod":
        return await this.#state.moderation.handle(session, frame);
      case "list":
        return this.#list(session);
      case "lookup": {
        const user = await this.#state.registry.get(frame.user);
        if (!user) {
          throw new ProtocolError("no_such_user", `no user ${frame.user}`);
        }
        return this.#state.send(session, {
          t: "user",
          member: this.#state.member(user),
        });
      }
      case "ping":
        return this.#state.send(session, { t: "pong", n: frame.n });
      case "pong":
        return;
      case "login":
        throw new ProtocolError("bad_frame", "already logged in");
    }
  }

  async #join(session: HubSession, roomName: string): Promise<void> {
    const key = session.user.userKey;
    let room = this.#state.rooms.get(roomName);
    if (room?.members.has(key)) {
      await this.#sendJoined(session, room);
      return;
    }
    const releaseSeat = this.#takeSeat(roomName);
    try {
      const roster = await this.#state.store.addMember(roomName, key);
      // Re-read after the await: a concurrent first join may have created
      // the room meanwhile, and replacing it would lose that member.
      room = this.#roomAfterAdd(roomName, roster);
      room.members.add(key);
    } finally {
      releaseSeat();
    }
    this.#state.options.log(`${session.user.name} joined ${roomName}`);
    this.#presence(room, "join", session.user, session);
    for (const own of this.#state.online.get(key) ?? []) {
      await this.#sendJoined(own, room);
    }
  }

  /**
   * Hold a seat in `roomName` for a join waiting for the store, refusing
   * one past MAX_ROOM_MEMBERS (a sender key for more could not be
   * distributed in one `keys` frame). Held seats count, so concurrent joins
   * cannot overshoot; release it once the member is in `members`.
   */
  #takeSeat(roomName: string): () => void {
    const cap = Math.min(
      this.#state.options.maxRoomMembers ?? MAX_ROOM_MEMBERS,
      MAX_ROOM_MEMBERS,
    );
    const members = this.#state.rooms.get(roomName)?.members.size ?? 0;
    const joining = this.#joining.get(roomName) ?? 0;
    if (members + joining >= cap) {
      throw new ProtocolError(
        "room_full",
        `${roomName} has ${cap} members, the most a room can have; use another room`,
        { room: roomName },
      );
    }
    this.#joining.set(roomName, joining + 1);
    return () => {
      const left = this.#joining.get(roomName)! - 1;
      if (left === 0) this.#joining.delete(roomName);
      else this.#joining.set(roomName, left);
    };
  }

  async #leave(session: HubSession, roomName: string): Promise<void> {
    const room = this.#state.rooms.get(roomName);
    if (!room?.members.has(session.user.userKey)) {
      throw new ProtocolError("not_member", `you are not in ${roomName}`);
    }
    await this.#removeMember(session.user, room, session);
  }

  /**
   * End `user`'s membership of `room`: the roster changes, so every sender
   * rotates and nothing new is encrypted to them; members see them leave.
   */
  async #removeMember(
    user: UserRecord,
    room: RoomState,
    except: HubSession | null,
  ): Promise<void> {
    const key = user.userKey;
    room.roster = await this.#state.store.removeMember(room.name, key);
    room.members.delete(key);
    room.senders.delete(key);
    this.#state.options.log(`${user.name} left ${room.name}`);
    for (const own of this.#state.online.get(key) ?? []) {
      own.joinedRooms.delete(room.name);
      // A rejoin starts afresh: the client forgets the room's keys when it
      // leaves, so every key must be sent again with the history it opens.
      forgetSentKeys(own.sentKeys, room.name);
      this.#state.send(own, { t: "left", room: room.name });
    }
    this.#presence(room, "leave", user, except);
  }

  /** Remove `user` from every room (a ban). */
  async removeFromAllRooms(user: UserRecord): Promise<void> {
    for (const room of this.#roomsOf(user.userKey)) {
      await this.#removeMember(user, room, null);
    }
  }

  async #openDm(session: HubSession, peerName: string): Promise<void> {
    const peer = await this.#state.registry.get(peerName);
    if (!peer) {
      throw new ProtocolError("no_such_user", `no user named ${peerName}`);
    }
    if (peer.userKey === session.user.userKey) {
      throw new ProtocolError("bad_room", "you cannot message yourself");
    }
    const roomName = dmRoomName(session.user.userKey, peer.userKey);
    let room = this.#state.rooms.get(roomName);
    const missing = [session.user, peer].filter((u) =>
      !room?.members.has(u.userKey)
    );
    for (const user of missing) {
      const roster = await this.#state.store.addMember(roomName, user.userKey);
      room = this.#roomAfterAdd(roomName, roster);
      room.members.add(user.userKey);
    }
    room = this.#state.rooms.get(roomName)!;
    for (const user of [session.user, peer]) {
      for (const s of this.#state.online.get(user.userKey) ?? []) {
        await this.#sendJoined(s, room);
      }
    }
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

  #roomsOf(key: string): RoomState[] {
    return [...this.#state.rooms.values()].filter((r) => r.members.has(key));
  }

  /** The room's state once a member was stored: created if still missing, roster at least `roster`. */
  #roomAfterAdd(roomName: string, roster: number): RoomState {
    let room = this.#state.rooms.get(roomName);
    if (!room) {
      room = new RoomState(roomName, roster, 0, []);
      this.#state.rooms.set(roomName, room);
    }
    room.roster = Math.max(room.roster, roster);
    return room;
  }

  /**
   * Send `room`'s `joined` frame to `session`. Everything that needs an
   * await (member records, the stored epoch, room in the send queue) comes
   * first; the frame is then built and queued in one synchronous step, so
   * it always reflects the roster of the moment it is queued: a presence
   * frame queued before it is never newer than it (a client holding a
   * stale roster would have its sender keys refused as stale_roster).
   */
  async #sendJoined(session: HubSession, room: RoomState): Promise<void> {
    const key = session.user.userKey;
    const users = new Map<string, UserRecord | null>();
    let storedEpoch: number | undefined;
    for (;;) {
      if (!room.senders.has(key) && storedEpoch === undefined) {
        storedEpoch = await this.#state.store.latestEpoch(room.name, key);
      }
      // (a Set's iterator also visits members added during the awaits)
      for (const m of room.members) {
        if (!users.has(m)) users.set(m, await this.#state.registry.get(m));
      }
      const epoch = room.senders.get(key)?.epoch ?? storedEpoch;
      if (epoch === undefined) continue;
      const members: MemberInfo[] = [];
      for (const m of room.members) {
        const user = users.get(m);
        if (user) members.push(this.#state.member(user));
      }
      const bytes = frameBytes({
        t: "joined",
        room: room.name,
        roster: room.roster,
        epoch,
        members,
      });
      if (!session.sink.fits(bytes.length)) {
        // a big roster behind a full queue: let it drain, then rebuild
        await session.sink.drain();
        continue;
      }
      // left, kicked or banned while this waited: nothing to announce
      if (this.#state.rooms.get(room.name) !== room || !room.members.has(key)) {
        return;
      }
      session.joinedRooms.add(room.name);
      session.sink.send(bytes);
      return;
    }
  }

  #presence(
    room: RoomState,
    event: "join" | "leave" | "online" | "offline",
    user: UserRecord,
    except: HubSession | null,
  ): void {
    const frame = frameBytes({
      t: "presence",
      room: room.name,
      event,
      user: user.name,
      roster: room.roster,
      ...(event === "join" ? { member: this.#state.member(user) } : {}),
    });
    const recipients = new Set(room.members);
    if (event === "leave") recipients.add(user.userKey);
    for (const member of recipients) {
      for (const s of this.#state.online.get(member) ?? []) {
        if (
          s !== except && s.user.userKey !== user.userKey &&
          s.joinedRooms.has(room.name)
        ) s.sink.send(frame);
      }
    }
  }
}

/** Drop `room`'s entries (`room\0sender\0epoch`) from a session's keys-sent set. */
function forgetSentKeys(sentKeys: Set<string>, room: string): void {
  const prefix = `${room}\u0000`;
  for (const id of sentKeys) if (id.startsWith(prefix)) sentKeys.delete(id);
}
