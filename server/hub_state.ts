/**
 * The state the hub's parts share: rooms, who is online, the store and the
 * registry, plus the small helpers every part needs.
 * @module
 */
import { ProtocolError } from "../shared/errors.ts";
import { toBase64Url } from "../shared/bytes.ts";
import {
  encodeServerFrame,
  type MemberInfo,
  type ServerFrame,
} from "../shared/protocol.ts";
import type { FrameSink } from "../shared/framed_connection.ts";
import type { UserRegistry } from "./registry.ts";
import { TokenBucket } from "../shared/token_bucket.ts";
import type { Admission } from "./admission.ts";
import {
  FrameLimits,
  type FrameRate,
  type LimitedFrame,
} from "./frame_limits.ts";
import type { RoomState } from "./room_state.ts";
import type { HistoryStore, UserRecord } from "./store/history_store.ts";

/** What the hub needs to know about a logged-in connection. */
export interface HubSession {
  readonly id: string;
  readonly user: UserRecord;
  /** Hex SHA-256 fingerprint of the user's keys (operators and sanctions use it). */
  readonly fingerprint: string;
  readonly sink: FrameSink;
  /** Keys of `room\0sender\0epoch` already sent on this connection. */
  readonly sentKeys: Set<string>;
  /**
   * Rooms whose `joined` frame is queued on this connection. Room traffic
   * (presence, keys, messages) goes only to these: a client drops frames of
   * a room it has not been told it is in, and a key it dropped would count
   * as sent. What it misses meanwhile it fetches as history once joined.
   */
  readonly joinedRooms: Set<string>;
}

/** Settings the hub enforces. */
export interface HubOptions {
  maxTextBytes: number;
  /** A session's send queue cap; long bursts (login, history) drain at half of it. */
  maxQueueBytes: number;
  /** Messages a user may send at once… */
  rateBurst: number;
  /** …and per second after that. */
  ratePerSecond: number;
  /** Operators' key fingerprints (normalised hex). */
  ops: Set<string>;
  /** Admit only operators and allowed keys. */
  inviteOnly: boolean;
  /** Per-user limits of the other frames, by class (defaults for the rest). */
  frameRates?: Partial<Record<LimitedFrame, FrameRate>>;
  /** Anyone may open a DM with anyone (not only people sharing a room). */
  openDms?: boolean;
  /** Most members a room may have (default and at most MAX_ROOM_MEMBERS). */
  maxRoomMembers?: number;
  log: (line: string) => void;
}

/** Encode a server frame. */
export function frameBytes(frame: ServerFrame): Uint8Array {
  return encodeServerFrame(frame);
}

/** Rooms, sessions, store and registry of one server. */
export class HubState {
  readonly rooms = new Map<string, RoomState>();
  /** user key → that user's live sessions. */
  readonly online = new Map<string, Set<HubSession>>();
  /** user key → message rate bucket (shared by all their sessions). */
  readonly buckets = new Map<string, TokenBucket>();
  /** Per-user buckets of every other frame type. */
  readonly frameLimits: FrameLimits;
  /** recipient key → senders they let open a DM with them (/allow-dm). */
  readonly dmAllowed = new Map<string, Set<string>>();
  /** Shared state over `store` and `registry`; `admission` decides who may log in and speak. */
  constructor(
    readonly store: HistoryStore,
    readonly registry: UserRegistry,
    readonly options: HubOptions,
    readonly admission: Admission,
  ) {
    this.frameLimits = new FrameLimits(options.frameRates ?? {});
  }

  /** Take one message token for `userKey`; false means "slow down". */
  takeMessageToken(userKey: string): boolean {
    return this.#bucket(userKey).take();
  }

  /** Milliseconds until `userKey` has a message token (0: now). */
  messageTokenWait(userKey: string): number {
    return this.#bucket(userKey).msUntilToken();
  }

  #bucket(userKey: string): TokenBucket {
    let bucket = this.buckets.get(userKey);
    if (!bucket) {
      bucket = new TokenBucket(
        this.options.rateBurst,
        this.options.ratePerSecond,
      );
      this.buckets.set(userKey, bucket);
    }
    return bucket;
  }

  /** Every logged-in session. */
  sessions(): HubSession[] {
    return [...this.online.values()].flatMap((set) => [...set]);
  }

  /** Send one frame to one session. */
  send(session: HubSession, frame: ServerFrame): void {
    session.sink.send(frameBytes(frame));
  }

  /** The room, if `session`'s user is a member; otherwise a `not_member` error. */
  memberRoom(session: HubSession, roomName: string): RoomState {
    const room = this.rooms.get(roomName);
    if (!room?.members.has(session.user.userKey)) {
      throw new ProtocolError(
        "not_member",
        `you are not in ${roomName}`,
        { room: roomName },
      );
    }
    return room;
  }

  /** Public description of a user, with whether they are online now. */
  member(user: UserRecord): MemberInfo {
    // a roster of N members is sent N times as a room fills: encode each
    // user's keys once, not once per roster
    let keys = this.#encodedKeys.get(user);
    if (!keys) {
      keys = {
        idKey: toBase64Url(user.idKey),
        encKey: toBase64Url(user.encKey),
      };
      this.#encodedKeys.set(user, keys);
    }
    return {
      user: user.name,
      uid: user.uid,
      idKey: keys.idKey,
      encKey: keys.encKey,
      online: this.online.has(user.userKey),
    };
  }

  #encodedKeys = new WeakMap<UserRecord, { idKey: string; encKey: string }>();
}
