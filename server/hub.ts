/**
 * The chat hub: rooms, membership, presence, sender-key bookkeeping and
 * message relay. It sees sessions only through a small interface (a user
 * record and a frame sink), so it knows nothing of sockets or TLS.
 *
 * Order of work for every message: validate → commit to the store →
 * acknowledge to the sender → relay to the other members.
 * @module
 */
import {
  encodeFrame,
  encodeFrameBody,
  type RawFrame,
} from "../shared/codec.ts";
import { ProtocolError } from "../shared/errors.ts";
import { dmParticipants, dmRoomName, userKey } from "../shared/names.ts";
import type {
  ClientFrame,
  KeysFrame,
  MemberInfo,
  SendFrame,
  ServerFrame,
} from "../shared/protocol.ts";
import { toBase64Url, utf8 } from "../shared/bytes.ts";
import type { FrameSink } from "../shared/framed_connection.ts";
import { UserRegistry } from "./registry.ts";
import { RoomState } from "./room_state.ts";
import type { HistoryStore, UserRecord } from "./store/history_store.ts";

/** What the hub needs to know about a logged-in connection. */
export interface HubSession {
  readonly id: string;
  readonly user: UserRecord;
  readonly sink: FrameSink;
  /** Keys of `room\0sender\0epoch` already sent on this connection. */
  readonly sentKeys: Set<string>;
}

/** Settings the hub enforces. */
export interface HubOptions {
  maxTextBytes: number;
  log: (line: string) => void;
}

/** Encode a server frame. */
export function frameBytes(frame: ServerFrame): Uint8Array {
  return encodeFrame(frame as unknown as RawFrame);
}

/** Rooms, presence and relay for all sessions of one server. */
export class ChatHub {
  readonly registry: UserRegistry;
  #store: HistoryStore;
  #options: HubOptions;
  #rooms = new Map<string, RoomState>();
  #online = new Map<string, Set<HubSession>>();
  #maxCiphertextChars: number;

  private constructor(store: HistoryStore, options: HubOptions) {
    this.#store = store;
    this.#options = options;
    this.registry = new UserRegistry(store);
    // body JSON is at most ~2× the text (escaping) plus a small envelope;
    // base64url adds a third, GCM a 16-byte tag.
    this.#maxCiphertextChars = Math.ceil(
      ((2 * options.maxTextBytes + 512 + 16) * 4) / 3,
    );
  }

  /** Load rooms from the store and return a ready hub. */
  static async open(
    store: HistoryStore,
    options: HubOptions,
  ): Promise<ChatHub> {
    const hub = new ChatHub(store, options);
    for (const r of await store.listRooms()) {
      hub.#rooms.set(
        r.room,
        new RoomState(r.room, r.roster, r.lastSeq, r.members),
      );
    }
    return hub;
  }

  /** Number of logged-in connections. */
  get sessionCount(): number {
    let n = 0;
    for (const set of this.#online.values()) n += set.size;
    return n;
  }

  /** Every logged-in session (for shutdown). */
  sessions(): HubSession[] {
    return [...this.#online.values()].flatMap((set) => [...set]);
  }

  /** A session finished logging in: mark online, send its rooms. */
  async attach(session: HubSession): Promise<void> {
    const key = session.user.userKey;
    let sessions = this.#online.get(key);
    const cameOnline = !sessions;
    if (!sessions) this.#online.set(key, sessions = new Set());
    sessions.add(session);
    const rooms = this.#roomsOf(key);
    this.#send(session, {
      t: "welcome",
      session: session.id,
      user: session.user.name,
      rooms: rooms.map((r) => r.name),
    });
    for (const room of rooms) {
      this.#send(session, await this.#joinedFrame(room, key));
      if (cameOnline) this.#presence(room, "online", session.user, session);
    }
  }

  /** A session ended: mark offline when it was the user's last one. */
  detach(session: HubSession): void {
    const key = session.user.userKey;
    const sessions = this.#online.get(key);
    if (!sessions?.delete(session)) return;
    if (sessions.size > 0) return;
    this.#online.delete(key);
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
        return await this.#keys(session, frame);
      case "msg":
        return await this.#message(session, frame);
      case "list":
        return this.#list(session);
      case "lookup": {
        const user = await this.registry.get(frame.user);
        if (!user) {
          throw new ProtocolError("no_such_user", `no user ${frame.user}`);
        }
        return this.#send(session, { t: "user", member: this.#member(user) });
      }
      case "ping":
        return this.#send(session, { t: "pong", n: frame.n });
      case "pong":
        return;
      case "login":
        throw new ProtocolError("bad_frame", "already logged in");
    }
  }

  async #join(session: HubSession, roomName: string): Promise<void> {
    const key = session.user.userKey;
    let room = this.#rooms.get(roomName);
    if (room?.members.has(key)) {
      this.#send(session, await this.#joinedFrame(room, key));
      return;
    }
    const roster = await this.#store.addMember(roomName, key);
    if (!room) {
      room = new RoomState(roomName, roster, 0, []);
      this.#rooms.set(roomName, room);
    }
    room.roster = roster;
    room.members.add(key);
    this.#options.log(`${session.user.name} joined ${roomName}`);
    for (const own of this.#online.get(key) ?? []) {
      this.#send(own, await this.#joinedFrame(room, key));
    }
    this.#presence(room, "join", session.user, session);
  }

  async #leave(session: HubSession, roomName: string): Promise<void> {
    const key = session.user.userKey;
    const room = this.#rooms.get(roomName);
    if (!room?.members.has(key)) {
      throw new ProtocolError("not_member", `you are not in ${roomName}`);
    }
    room.roster = await this.#store.removeMember(roomName, key);
    room.members.delete(key);
    room.senders.delete(key);
    this.#options.log(`${session.user.name} left ${roomName}`);
    for (const own of this.#online.get(key) ?? []) {
      this.#send(own, { t: "left", room: roomName });
    }
    this.#presence(room, "leave", session.user, session);
  }

  async #openDm(session: HubSession, peerName: string): Promise<void> {
    const peer = await this.registry.get(peerName);
    if (!peer) {
      throw new ProtocolError("no_such_user", `no user named ${peerName}`);
    }
    if (peer.userKey === session.user.userKey) {
      throw new ProtocolError("bad_room", "you cannot message yourself");
    }
    const roomName = dmRoomName(session.user.userKey, peer.userKey);
    let room = this.#rooms.get(roomName);
    const missing = [session.user, peer].filter((u) =>
      !room?.members.has(u.userKey)
    );
    for (const user of missing) {
      const roster = await this.#store.addMember(roomName, user.userKey);
      if (!room) {
        room = new RoomState(roomName, roster, 0, []);
        this.#rooms.set(roomName, room);
      }
      room.roster = roster;
      room.members.add(user.userKey);
    }
    room = this.#rooms.get(roomName)!;
    for (const user of [session.user, peer]) {
      for (const s of this.#online.get(user.userKey) ?? []) {
        this.#send(s, await this.#joinedFrame(room, user.userKey));
      }
    }
  }

  async #keys(session: HubSession, frame: KeysFrame): Promise<void> {
    const sender = session.user.userKey;
    const room = this.#memberRoom(session, frame.room);
    if (frame.roster !== room.roster) {
      throw new ProtocolError(
        "stale_roster",
        `the roster of ${room.name} changed; rotate again`,
        { cause: { room: room.name } },
      );
    }
    const latest = room.senders.get(sender)?.epoch ??
      await this.#store.latestEpoch(room.name, sender);
    if (frame.epoch <= latest) {
      throw new ProtocolError(
        "bad_epoch",
        `epoch ${frame.epoch} is not after ${latest}`,
        { cause: { room: room.name, epoch: latest } },
      );
    }
    const wraps = new Map<string, { wrap: string; sig: string }>();
    for (const w of frame.wraps) {
      const to = userKey(w.to);
      if (!room.members.has(to) || wraps.has(to)) {
        throw new ProtocolError(
          "bad_frame",
          `keys: ${w.to} is not a member of ${room.name} or appears twice`,
        );
      }
      wraps.set(to, { wrap: w.wrap, sig: w.sig });
    }
    await this.#store.saveSenderKey(
      [...wraps].map(([recipient, w]) => ({
        room: room.name,
        sender,
        epoch: frame.epoch,
        roster: frame.roster,
        recipient,
        wrap: w.wrap,
        sig: w.sig,
      })),
    );
    room.senders.set(sender, {
      epoch: frame.epoch,
      roster: frame.roster,
      lastCounter: -1,
      wraps,
    });
  }

  async #message(session: HubSession, frame: SendFrame): Promise<void> {
    const sender = session.user.userKey;
    const room = this.#memberRoom(session, frame.room);
    const refuse = (code: string, message: string): never => {
      throw new ProtocolError(code, message, {
        cause: { id: frame.id, room: room.name },
      });
    };
    if (frame.ct.length > this.#maxCiphertextChars) {
      refuse(
        "too_large",
        `message exceeds ${this.#options.maxTextBytes} bytes`,
      );
    }
    if (!room.keyIsCurrent(sender, frame.epoch)) {
      refuse(
        "stale_key",
        `your sender key for ${room.name} is out of date; rotate`,
      );
    }
    const state = room.senders.get(sender)!;
    if (frame.counter <= state.lastCounter) {
      refuse("replay", `counter ${frame.counter} was already used`);
    }
    const { seq, duplicate } = await this.#store.appendMessage({
      room: room.name,
      id: frame.id,
      sender,
      epoch: frame.epoch,
      counter: frame.counter,
      ts: frame.ts,
      iv: frame.iv,
      ct: frame.ct,
      sig: frame.sig,
    });
    this.#send(session, { t: "ack", id: frame.id, room: room.name, seq });
    if (duplicate) return;
    state.lastCounter = frame.counter;
    room.lastSeq = Math.max(room.lastSeq, seq);
    const relayed = encodeFrameBody(utf8(JSON.stringify({
      t: "msg",
      room: room.name,
      from: session.user.name,
      seq,
      epoch: frame.epoch,
      counter: frame.counter,
      ts: frame.ts,
      iv: frame.iv,
      ct: frame.ct,
      sig: frame.sig,
    })));
    for (const member of room.members) {
      const sessions = this.#online.get(member);
      if (!sessions) continue;
      for (const s of sessions) {
        if (s === session) continue;
        this.#deliverKey(s, room, sender, session.user.name, frame.epoch);
        s.sink.send(relayed);
      }
    }
  }

  /** Send `recipient` the wrap of (room, sender, epoch) once per connection. */
  #deliverKey(
    recipient: HubSession,
    room: RoomState,
    sender: string,
    senderName: string,
    epoch: number,
  ): void {
    const id = `${room.name}\u0000${sender}\u0000${epoch}`;
    if (recipient.sentKeys.has(id)) return;
    recipient.sentKeys.add(id);
    const state = room.senders.get(sender);
    const wrap = state?.epoch === epoch
      ? state.wraps.get(recipient.user.userKey)
      : undefined;
    if (!wrap || !state) return;
    this.#send(recipient, {
      t: "key",
      room: room.name,
      from: senderName,
      epoch,
      roster: state.roster,
      wrap: wrap.wrap,
      sig: wrap.sig,
    });
  }

  #list(session: HubSession): void {
    const key = session.user.userKey;
    const rooms = [...this.#rooms.values()]
      .filter((r) => !dmParticipants(r.name) || r.members.has(key))
      .filter((r) => r.members.size > 0 || r.members.has(key))
      .map((r) => ({
        room: r.name,
        members: r.members.size,
        joined: r.members.has(key),
      }))
      .sort((a, b) => a.room.localeCompare(b.room));
    this.#send(session, { t: "rooms", rooms });
  }

  #memberRoom(session: HubSession, roomName: string): RoomState {
    const room = this.#rooms.get(roomName);
    if (!room?.members.has(session.user.userKey)) {
      throw new ProtocolError(
        "not_member",
        `you are not in ${roomName}; /join it first`,
        {
          cause: { room: roomName },
        },
      );
    }
    return room;
  }

  #roomsOf(key: string): RoomState[] {
    return [...this.#rooms.values()].filter((r) => r.members.has(key));
  }

  async #joinedFrame(room: RoomState, key: string): Promise<ServerFrame> {
    const members: MemberInfo[] = [];
    for (const m of room.members) {
      const user = await this.registry.get(m);
      if (user) members.push(this.#member(user));
    }
    const epoch = room.senders.get(key)?.epoch ??
      await this.#store.latestEpoch(room.name, key);
    return {
      t: "joined",
      room: room.name,
      roster: room.roster,
      epoch,
      members,
    };
  }

  #member(user: UserRecord): MemberInfo {
    return {
      user: user.name,
      uid: user.uid,
      idKey: toBase64Url(user.idKey),
      encKey: toBase64Url(user.encKey),
      online: this.#online.has(user.userKey),
    };
  }

  #presence(
    room: RoomState,
    event: "join" | "leave" | "online" | "offline",
    user: UserRecord,
    except: HubSession,
  ): void {
    const frame = frameBytes({
      t: "presence",
      room: room.name,
      event,
      user: user.name,
      roster: room.roster,
      ...(event === "join" ? { member: this.#member(user) } : {}),
    });
    const recipients = new Set(room.members);
    if (event === "leave") recipients.add(user.userKey);
    for (const member of recipients) {
      for (const s of this.#online.get(member) ?? []) {
        if (s !== except && s.user.userKey !== user.userKey) s.sink.send(frame);
      }
    }
  }

  #send(session: HubSession, frame: ServerFrame): void {
    session.sink.send(frameBytes(frame));
  }
}
