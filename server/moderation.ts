/**
 * Moderation: operators are named by key fingerprint. They can kick, ban
 * and mute (persisted), set the message of the day, and admit keys to an
 * invite-only server. Each command is one small handler in a table; what
 * a sanction means at login and message time is Admission's. A sanction is
 * recorded on the user's fingerprint and on their identity key alone, so
 * the same keys cannot come back under another name; a ban also ends every
 * room membership, so nothing new is encrypted to the banned key.
 * @module
 */
import { ProtocolError } from "../shared/errors.ts";
import { toHex } from "../shared/bytes.ts";
import { fingerprint } from "../shared/crypto/identity.ts";
import { formatDuration } from "../shared/duration.ts";
import { normalizeFingerprint } from "../shared/fingerprint.ts";
import type { ModAction, ModFrame } from "../shared/protocol.ts";
import { type Admission, untilText } from "./admission.ts";
import type { HubSession, HubState } from "./hub_state.ts";
import type { ModerationStore, Sanction } from "./store/moderation_store.ts";
import type { UserRecord } from "./store/history_store.ts";

/** The fingerprint (hex) of a registered user's keys. */
export async function userFingerprint(user: UserRecord): Promise<string> {
  return toHex(
    await fingerprint({
      user: user.name,
      uid: user.uid,
      idKey: new Uint8Array(user.idKey),
      encKey: new Uint8Array(user.encKey),
    }),
  );
}

/** How moderation ends a banned user's room memberships. */
export interface RoomExit {
  /** Remove `user` from every room they are in. */
  removeFromAllRooms(user: UserRecord): Promise<void>;
}

/** One operator's request, as the handlers see it. */
interface ModRequest {
  readonly session: HubSession;
  readonly frame: ModFrame;
  /** The operator's name. */
  readonly by: string;
  readonly now: number;
}

/** The user a request names, and the words the handlers use about it. */
interface Target {
  readonly user: UserRecord;
  readonly fp: string;
  /** ": REASON", or nothing. */
  readonly because: string;
  /** " for DURATION", or nothing. */
  readonly span: string;
}

type Handler = (acts: ModerationActs, req: ModRequest) => Promise<void>;

/** Every moderation command: one handler each. */
const COMMANDS: Readonly<Record<ModAction, Handler>> = {
  kick,
  ban,
  unban,
  mute,
  unmute,
  motd: setMotd,
  allow,
};

/** Operators, sanctions and the invite list of one server. */
export class Moderation {
  #acts: ModerationActs;

  /** Moderation over the hub's state; `rooms` ends a banned user's memberships. */
  constructor(state: HubState, store: ModerationStore, rooms: RoomExit) {
    this.#acts = new ModerationActs(state, store, rooms);
  }

  /** Greet a session that just logged in with the message of the day. */
  async greet(session: HubSession): Promise<void> {
    const motd = await this.#acts.store.getSetting("motd");
    if (motd) this.#acts.tell(session, `message of the day: ${motd}`);
  }

  /** Carry out a moderation request. */
  async handle(session: HubSession, frame: ModFrame): Promise<void> {
    if (frame.action === "motd" && frame.text === undefined) {
      // anyone may read the message of the day
      const motd = await this.#acts.store.getSetting("motd");
      this.#acts.tell(
        session,
        motd ? `message of the day: ${motd}` : "there is no message of the day",
      );
      return;
    }
    if (!this.#acts.admission.isOperator(session.fingerprint)) {
      throw new ProtocolError(
        "not_operator",
        `only operators can ${frame.action}, and this key is not an operator's`,
      );
    }
    const by = session.user.name;
    await COMMANDS[frame.action](this.#acts, {
      session,
      frame,
      by,
      now: Date.now(),
    });
  }
}

/** What the handlers act with: the hub's state, admission, the store, the rooms. */
class ModerationActs {
  readonly admission: Admission;

  constructor(
    readonly state: HubState,
    readonly store: ModerationStore,
    readonly rooms: RoomExit,
  ) {
    this.admission = state.admission;
  }

  /** The user `req` names (or no_such_user), logged as the moderation it is. */
  async target(req: ModRequest): Promise<Target> {
    const { frame, by } = req;
    const user = await this.state.registry.get(frame.user!);
    if (!user) {
      throw new ProtocolError("no_such_user", `no user named ${frame.user}`);
    }
    const span = frame.durationMs === undefined
      ? ""
      : ` for ${formatDuration(frame.durationMs)}`;
    const because = frame.reason ? `: ${frame.reason}` : "";
    const fp = await userFingerprint(user);
    this.state.options.log(
      `moderation: ${by} ${frame.action} ${user.name}${span}${because}`,
    );
    return { user, fp, because, span };
  }

  /** The ban or mute `req` asks for on `target`. */
  sanction(req: ModRequest, target: Target, kind: "ban" | "mute"): Sanction {
    const { frame, now } = req;
    return {
      fingerprint: target.fp,
      kind,
      until: frame.durationMs === undefined ? null : now + frame.durationMs,
      reason: frame.reason ?? "",
      by: req.by,
      createdAt: now,
    };
  }

  /** `user`'s live sessions. */
  sessionsOf(user: UserRecord): Iterable<HubSession> {
    return this.state.online.get(user.userKey) ?? [];
  }

  /** Send one session a notice. */
  tell(session: HubSession, message: string): void {
    this.state.send(session, { t: "notice", message });
  }

  /** Tell the members of every room `user` is in. */
  announce(user: UserRecord, message: string): void {
    for (const room of this.state.rooms.values()) {
      if (!room.members.has(user.userKey)) continue;
      for (const member of room.members) {
        for (const s of this.state.online.get(member) ?? []) {
          this.state.send(s, { t: "notice", room: room.name, message });
        }
      }
    }
  }

  /** Send every session of `user` a final error and close it once written. */
  disconnect(user: UserRecord, code: string, message: string): void {
    for (const s of this.sessionsOf(user)) {
      this.state.send(s, { t: "error", code, message });
      s.sink.drain().finally(() => s.sink.close());
    }
  }
}

async function kick(acts: ModerationActs, req: ModRequest): Promise<void> {
  const target = await acts.target(req);
  const { user, because } = target;
  if (!acts.state.online.get(user.userKey)?.size) {
    acts.tell(req.session, `${user.name} is not connected; nothing to kick`);
    return;
  }
  acts.announce(user, `${user.name} was kicked by ${req.by}${because}`);
  acts.disconnect(user, "kicked", `you were kicked by ${req.by}${because}`);
  acts.tell(req.session, `kicked ${user.name}`);
}

async function ban(acts: ModerationActs, req: ModRequest): Promise<void> {
  const target = await acts.target(req);
  const { user, because, span } = target;
  const sanction = acts.sanction(req, target, "ban");
  await acts.admission.impose(user.idKey, sanction);
  acts.announce(user, `${user.name} was banned by ${req.by}${span}${because}`);
  acts.disconnect(
    user,
    "banned",
    `you were banned by ${req.by} ${untilText(sanction)}${because}`,
  );
  await acts.rooms.removeFromAllRooms(user);
  acts.tell(req.session, `banned ${user.name} ${untilText(sanction)}`);
}

async function unban(acts: ModerationActs, req: ModRequest): Promise<void> {
  const { user, fp } = await acts.target(req);
  const lifted = await acts.admission.lift(fp, user.idKey, "ban");
  acts.tell(
    req.session,
    lifted ? `unbanned ${user.name}` : `${user.name} was not banned`,
  );
}

async function mute(acts: ModerationActs, req: ModRequest): Promise<void> {
  const target = await acts.target(req);
  const { user, because } = target;
  const sanction = acts.sanction(req, target, "mute");
  await acts.admission.impose(user.idKey, sanction);
  for (const s of acts.sessionsOf(user)) {
    acts.tell(
      s,
      `you were muted by ${req.by} ${untilText(sanction)}${because}`,
    );
  }
  acts.tell(req.session, `muted ${user.name} ${untilText(sanction)}`);
}

async function unmute(acts: ModerationActs, req: ModRequest): Promise<void> {
  const { user, fp } = await acts.target(req);
  const lifted = await acts.admission.lift(fp, user.idKey, "mute");
  for (const s of acts.sessionsOf(user)) {
    acts.tell(s, `${req.by} lifted your mute`);
  }
  acts.tell(
    req.session,
    lifted ? `unmuted ${user.name}` : `${user.name} was not muted`,
  );
}

async function setMotd(acts: ModerationActs, req: ModRequest): Promise<void> {
  const text = req.frame.text!;
  await acts.store.setSetting("motd", text);
  for (const s of acts.state.sessions()) {
    acts.tell(s, `message of the day: ${text}`);
  }
}

async function allow(acts: ModerationActs, req: ModRequest): Promise<void> {
  const fp = normalizeFingerprint(req.frame.fingerprint!);
  if (!fp) {
    throw new ProtocolError("bad_frame", "that is not a 64-digit fingerprint");
  }
  await acts.admission.admit(fp, req.by, req.now);
  acts.tell(req.session, `allowed key ${fp}`);
}
