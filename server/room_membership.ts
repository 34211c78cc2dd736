/**
 * Room membership and presence: joining, leaving, opening a DM, the cap on
 * a room's size, and what members are told about it (`joined`, `left`,
 * `presence`). Every roster change goes through the store first.
 * @module
 */
import { ProtocolError } from "../shared/errors.ts";
import { dmParticipants, dmRoomName } from "../shared/names.ts";
import { MAX_ROOM_MEMBERS, type MemberInfo } from "../shared/protocol.ts";
import { frameBytes, type HubSession, type HubState } from "./hub_state.ts";
import { RoomState } from "./room_state.ts";
import type { UserRecord } from "./store/history_store.ts";

/** Most people one user may /allow-dm at once. */
export const MAX_DM_ALLOWED = 1_000;

/** What members are told of another member. */
export type PresenceEvent = "join" | "leave" | "online" | "offline";

/** Who is in which room, and telling them. */
export class RoomMembership {
  #state: HubState;
  /** Room name → joins waiting for the store (they count toward the cap). */
  #joining = new Map<string, number>();

  /** Membership over the hub's shared state. */
  constructor(state: HubState) {
    this.#state = state;
  }

  /** The rooms the user with key `key` is a member of. */
  roomsOf(key: string): RoomState[] {
    return [...this.#state.rooms.values()].filter((r) => r.members.has(key));
  }

  /** Join a (non-DM) room, creating it if needed; a member is sent `joined` again. */
  async join(session: HubSession, roomName: string): Promise<void> {
    if (dmParticipants(roomName)) {
      throw new ProtocolError(
        "bad_room",
        "a direct-message room cannot be joined by name",
      );
    }
    const key = session.user.userKey;
    let room = this.#state.rooms.get(roomName);
    if (room?.members.has(key)) {
      await this.sendJoined(session, room);
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
    this.presence(room, "join", session.user, session);
    for (const own of this.#state.online.get(key) ?? []) {
      await this.sendJoined(own, room);
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

  /** Leave a room the session's user is in. */
  async leave(session: HubSession, roomName: string): Promise<void> {
    const room = this.#state.rooms.get(roomName);
    if (!room?.members.has(session.user.userKey)) {
      throw new ProtocolError("not_member", `you are not in ${roomName}`);
    }
    await this.#removeMember(session.user, room, session);
  }

  /** Remove `user` from every room (a ban). */
  async removeFromAllRooms(user: UserRecord): Promise<void> {
    for (const room of this.roomsOf(user.userKey)) {
      await this.#removeMember(user, room, null);
    }
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
    this.presence(room, "leave", user, except);
  }

  /** Open (or reopen) the DM room of the session's user and `peerName`. */
  async openDm(session: HubSession, peerName: string): Promise<void> {
    const peer = await this.#state.registry.get(peerName);
    if (!peer) {
      throw new ProtocolError("no_such_user", `no user named ${peerName}`);
    }
    if (peer.userKey === session.user.userKey) {
      throw new ProtocolError("bad_room", "you cannot message yourself");
    }
    const roomName = dmRoomName(session.user.userKey, peer.userKey);
    let room = this.#state.rooms.get(roomName);
    if (!room?.members.has(peer.userKey)) {
      this.#checkDmConsent(session.user, peer);
    }
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
        await this.sendJoined(s, room);
      }
    }
  }

  /**
   * A DM that would add `peer` needs their consent: a room in common, their
   * /allow-dm of `user`, or a server with --open-dms. Otherwise `dm_refused`.
   */
  #checkDmConsent(user: UserRecord, peer: UserRecord): void {
    if (this.#state.options.openDms) return;
    if (this.#state.dmAllowed.get(peer.userKey)?.has(user.userKey)) return;
    if (this.sharesRoom(user.userKey, peer.userKey)) return;
    throw new ProtocolError(
      "dm_refused",
      `${peer.name} shares no room with you and has not allowed DMs from you`,
    );
  }

  /** Whether users `a` and `b` are both members of some room that is not a DM. */
  sharesRoom(a: string, b: string): boolean {
    for (const room of this.#state.rooms.values()) {
      if (
        room.members.has(a) && room.members.has(b) &&
        !dmParticipants(room.name)
      ) return true;
    }
    return false;
  }

  /** `session`'s user lets `name` open DMs with them (or no longer does). */
  async allowDm(
    session: HubSession,
    name: string,
    allow: boolean,
  ): Promise<void> {
    const other = await this.#state.registry.get(name);
    if (!other) {
      throw new ProtocolError("no_such_user", `no user named ${name}`);
    }
    const key = session.user.userKey;
    let allowed = this.#state.dmAllowed.get(key);
    if (allow) {
      if ((allowed?.size ?? 0) >= MAX_DM_ALLOWED) {
        throw new ProtocolError(
          "too_many",
          `you allow DMs from ${MAX_DM_ALLOWED} people already; /deny-dm some`,
        );
      }
      if (!allowed) this.#state.dmAllowed.set(key, allowed = new Set());
      allowed.add(other.userKey);
    } else {
      allowed?.delete(other.userKey);
      if (allowed?.size === 0) this.#state.dmAllowed.delete(key);
    }
    this.#state.send(session, {
      t: "notice",
      message: allow
        ? `${other.name} may now open a DM with you`
        : `${other.name} may no longer open a DM with you unless you share a room`,
    });
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
  async sendJoined(session: HubSession, room: RoomState): Promise<void> {
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
      const bytes = this.#joinedFrame(room, epoch, users);
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

  /** `room`'s `joined` frame as of now, from the member records read so far. */
  #joinedFrame(
    room: RoomState,
    epoch: number,
    users: Map<string, UserRecord | null>,
  ): Uint8Array {
    const members: MemberInfo[] = [];
    for (const m of room.members) {
      const user = users.get(m);
      if (user) members.push(this.#state.member(user));
    }
    return frameBytes({
      t: "joined",
      room: room.name,
      roster: room.roster,
      epoch,
      members,
    });
  }

  /** Tell `room`'s members (who were told they are in it) that `user` came or went. */
  presence(
    room: RoomState,
    event: PresenceEvent,
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
