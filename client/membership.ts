/**
 * Membership as the server reports it: rosters when a room is joined,
 * members joining and leaving, people going online and offline (shown once
 * per person, however many rooms we share), and the key-change alarm when
 * a member's keys differ from the ones first seen.
 * @module
 */
import { CryptoError } from "../shared/errors.ts";
import { userKey } from "../shared/names.ts";
import type {
  JoinedFrame,
  MemberInfo,
  PresenceFrame,
} from "../shared/protocol.ts";
import type { EngineContext } from "./engine_context.ts";
import { type Person, RoomView } from "./room_view.ts";

/** Rosters and presence for every room we are in. */
export class Membership {
  #ctx: EngineContext;
  /** user key → online as last shown: one presence line per person per change. */
  #shownOnline = new Map<string, boolean>();

  /** Membership over the shared engine state. */
  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /**
   * A room's whole roster (we joined it, or rejoined on a new connection).
   * Resolves its view and whether this is its first roster on this connection.
   */
  async onJoined(
    frame: JoinedFrame,
  ): Promise<{ room: RoomView; firstOnThisConnection: boolean }> {
    let room = this.#ctx.rooms.get(frame.room);
    if (!room) this.#ctx.rooms.set(frame.room, room = new RoomView(frame.room));
    const members: Person[] = [];
    for (const member of frame.members) {
      const person = await this.#see(member, frame.room);
      if (!person) continue;
      members.push(person);
      this.#shownOnline.set(person.key, person.online);
    }
    const firstOnThisConnection = !room.live;
    room.applyJoined(frame.roster, frame.epoch, members);
    return { room, firstOnThisConnection };
  }

  /**
   * We left `roomName`: it is forgotten. Resolves the room plain text goes
   * to now (`current` unless that was the one left; `fallback` when none is left).
   */
  onLeft(roomName: string, current: string, fallback: string): string {
    const say = this.#ctx.say;
    const view = this.#ctx.rooms.get(roomName);
    this.#ctx.rooms.delete(roomName);
    view?.settleHistory();
    if (current !== roomName) {
      say.system(`you left ${say.label(roomName)}`);
      return current;
    }
    const next = this.#ctx.rooms.keys().next().value;
    say.system(
      next === undefined
        ? `you left ${
          say.label(roomName)
        }; you are in no room now (/join a room)`
        : `you left ${say.label(roomName)}; now talking in ${say.label(next)}`,
    );
    return next ?? fallback;
  }

  /** Someone joined or left a room, or went online or offline. */
  async onPresence(frame: PresenceFrame): Promise<void> {
    const room = this.#ctx.rooms.get(frame.room);
    if (!room) return;
    if (frame.event === "join" || frame.event === "leave") {
      const person = frame.event === "join" && frame.member
        ? await this.#see(frame.member, frame.room)
        : null;
      room.applyRosterChange(frame.roster, userKey(frame.user), person);
      this.#ctx.say.event({
        type: frame.event,
        room: frame.room,
        user: frame.user,
      });
      return;
    }
    this.#onlineChange(frame.room, frame.user, frame.event === "online");
  }

  #onlineChange(roomName: string, user: string, online: boolean): void {
    const key = userKey(user);
    const member = this.#ctx.rooms.get(roomName)?.members.get(key);
    if (member) member.online = online;
    // the server says it once per shared room: show it once per person
    if (this.#shownOnline.get(key) === online) return;
    this.#shownOnline.set(key, online);
    const rooms = [...this.#ctx.rooms.values()]
      .filter((r) => r.members.has(key))
      .map((r) => r.name);
    this.#ctx.say.event({
      type: "presence",
      room: roomName,
      rooms: rooms.includes(roomName) ? rooms : [roomName, ...rooms],
      user,
      online,
    });
  }

  /**
   * Import a member's keys; null (with a warning) when they are unusable,
   * e.g. a small-order identity key registered before servers refused them:
   * that member is left out of the room's key distribution.
   */
  async #see(member: MemberInfo, room: string): Promise<Person | null> {
    let seen;
    try {
      seen = await this.#ctx.people.see(member);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      this.#ctx.say.error(
        `ignoring ${member.user} in ${room}: their keys are unusable (${error.message}); nothing is encrypted to them`,
      );
      return null;
    }
    const { person, observation } = seen;
    if (observation === "changed" && person.key !== this.#ctx.me) {
      this.#alarm(person, room);
    }
    return person;
  }

  #alarm(person: Person, room: string): void {
    const blocked = this.#ctx.trust.isBlocked(person.key);
    this.#ctx.say.system(
      `WARNING: the key of ${person.user} (seen in ${room}) has CHANGED. ` +
        (blocked
          ? `You had verified them: nothing more is encrypted to them until you compare safety numbers again (/whois ${person.user}, then /verify).`
          : `Someone may be impersonating them. Compare safety numbers: /whois ${person.user}.`),
      true,
    );
  }
}
