/**
 * Moderation: operators are named by key fingerprint. They can kick, ban
 * and mute (persisted), set the message of the day, and admit keys to an
 * invite-only server. A sanction is recorded on the user's fingerprint and
 * on their identity key alone, so the same keys cannot come back under
 * another name; a ban also ends every room membership, so nothing new is
 * encrypted to the banned key.
 * @module
 */
import { AuthError, ProtocolError } from "../shared/errors.ts";
import { toHex } from "../shared/bytes.ts";
import { fingerprint } from "../shared/crypto/identity.ts";
import { formatDuration } from "../shared/duration.ts";
import { inviteSecretHash } from "../shared/invite_code.ts";
import type { ModFrame } from "../shared/protocol.ts";
import type { HubSession, HubState } from "./hub_state.ts";
import type { ModerationStore, Sanction } from "./store/moderation_store.ts";
import type { UserRecord } from "./store/history_store.ts";

/** Canonical form of a fingerprint: 64 lowercase hex digits, separators dropped. */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.replace(/[\s:]/g, "").toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null;
}

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

/** Read operator fingerprints from flags and an optional file (one per line, # comments). */
export async function loadOperators(
  ops: string[],
  opsFile: string | undefined,
): Promise<Set<string>> {
  const lines = [...ops];
  if (opsFile) {
    const text = await Deno.readTextFile(opsFile).catch((cause) => {
      throw new Error(`cannot read --ops-file ${opsFile}: ${cause.message}`);
    });
    for (const line of text.split("\n")) {
      const bare = line.replace(/#.*/, "").trim();
      if (bare) lines.push(bare);
    }
  }
  const out = new Set<string>();
  for (const line of lines) {
    const fp = normalizeFingerprint(line);
    if (!fp) {
      throw Object.assign(new Error(`"${line}" is not a key fingerprint`), {
        hint: "use the 64 hex digits `chat id --user NAME` prints",
      });
    }
    out.add(fp);
  }
  return out;
}

function until(s: Sanction): string {
  return s.until === null
    ? "until lifted"
    : `until ${new Date(s.until).toISOString()}`;
}

function active(s: Sanction | null, now: number): Sanction | null {
  return s && (s.until === null || s.until > now) ? s : null;
}

/** Operators, sanctions and the invite list of one server. */
export class Moderation {
  #state: HubState;
  #store: ModerationStore;
  #ops: Set<string>;
  #inviteOnly: boolean;
  #mutes = new Map<string, Sanction | null>();
  #removeFromRooms: (user: UserRecord) => Promise<void>;

  /** Moderation over the hub's state; `removeFromRooms` ends a user's memberships. */
  constructor(
    state: HubState,
    store: ModerationStore,
    ops: Set<string>,
    inviteOnly: boolean,
    removeFromRooms: (user: UserRecord) => Promise<void>,
  ) {
    this.#state = state;
    this.#store = store;
    this.#ops = ops;
    this.#inviteOnly = inviteOnly;
    this.#removeFromRooms = removeFromRooms;
  }

  /** The keys a sanction on this user is recorded under: fingerprint and identity key. */
  #sanctionKeys(fp: string, idKey: Uint8Array): string[] {
    return [fp, `id:${toHex(idKey)}`];
  }

  async #activeSanction(
    fp: string,
    idKey: Uint8Array,
    kind: "ban" | "mute",
    now: number,
  ): Promise<Sanction | null> {
    for (const key of this.#sanctionKeys(fp, idKey)) {
      const found = active(await this.#store.getSanction(key, kind), now);
      if (found) return found;
    }
    return null;
  }

  /** True for operators' keys. */
  isOperator(fp: string): boolean {
    return this.#ops.has(fp);
  }

  /**
   * Spend one use of an invite. Throws AuthError(`bad_invite`) saying why it
   * cannot be used; returns how to give the use back if the login fails.
   */
  async redeemInvite(
    secret: string,
    now = Date.now(),
  ): Promise<() => Promise<void>> {
    const hash = await inviteSecretHash(secret);
    const outcome = await this.#store.redeemInvite(hash, now);
    if (outcome !== "ok") {
      const why = {
        expired: "has expired",
        used: "was already used",
        unknown: "is not known to this server",
      }[outcome];
      throw new AuthError(
        "bad_invite",
        `this invite code ${why}; ask for a new one`,
      );
    }
    return () => this.#store.restoreInvite(hash);
  }

  /** Admit a key for good (it came with a valid invite). */
  async admit(fp: string, by: string, now = Date.now()): Promise<void> {
    await this.#store.allow(fp, by, now);
  }

  /** Why a key may not log in (banned; not invited), or null. */
  async admissionProblem(
    fp: string,
    idKey: Uint8Array,
    invited = false,
    now = Date.now(),
  ): Promise<AuthError | null> {
    const ban = await this.#activeSanction(fp, idKey, "ban", now);
    if (ban) {
      return new AuthError(
        "banned",
        `you are banned from this server ${until(ban)}${
          ban.reason ? `: ${ban.reason}` : ""
        }`,
      );
    }
    if (
      this.#inviteOnly && !invited && !this.isOperator(fp) &&
      !await this.#store.isAllowed(fp)
    ) {
      return new AuthError(
        "not_invited",
        `this server is invite-only; ask an operator to run: /allow ${fp}`,
      );
    }
    return null;
  }

  /** The mute on this key, if one is in force. */
  async muteOf(
    session: HubSession,
    now = Date.now(),
  ): Promise<Sanction | null> {
    const fp = session.fingerprint;
    if (!this.#mutes.has(fp)) {
      this.#mutes.set(
        fp,
        await this.#activeSanction(fp, session.user.idKey, "mute", now),
      );
    }
    return active(this.#mutes.get(fp) ?? null, now);
  }

  /** Greet a session that just logged in with the message of the day. */
  async greet(session: HubSession): Promise<void> {
    const motd = await this.#store.getSetting("motd");
    if (motd) {
      this.#state.send(session, {
        t: "notice",
        message: `message of the day: ${motd}`,
      });
    }
  }

  /** Carry out a moderation request. */
  async handle(session: HubSession, frame: ModFrame): Promise<void> {
    if (frame.action === "motd" && frame.text === undefined) {
      const motd = await this.#store.getSetting("motd");
      this.#tell(
        session,
        motd ? `message of the day: ${motd}` : "there is no message of the day",
      );
      return;
    }
    if (!this.isOperator(session.fingerprint)) {
      throw new ProtocolError(
        "not_operator",
        `only operators can /${frame.action}; operators are named with chat serve --op FINGERPRINT`,
      );
    }
    const by = session.user.name;
    const now = Date.now();
    const expires = frame.durationMs === undefined
      ? null
      : now + frame.durationMs;
    const span = frame.durationMs === undefined
      ? ""
      : ` for ${formatDuration(frame.durationMs)}`;
    const reason = frame.reason ?? "";
    switch (frame.action) {
      case "motd":
        await this.#store.setSetting("motd", frame.text!);
        for (const s of this.#allSessions()) {
          this.#state.send(s, {
            t: "notice",
            message: `message of the day: ${frame.text}`,
          });
        }
        return;
      case "allow": {
        const fp = normalizeFingerprint(frame.fingerprint!);
        if (!fp) {
          throw new ProtocolError(
            "bad_frame",
            "that is not a 64-digit fingerprint",
          );
        }
        await this.#store.allow(fp, by, now);
        this.#tell(session, `allowed key ${fp}`);
        return;
      }
    }
    const target = await this.#target(frame.user!);
    const fp = await userFingerprint(target);
    const keys = this.#sanctionKeys(fp, target.idKey);
    const online = (this.#state.online.get(target.userKey)?.size ?? 0) > 0;
    const because = reason ? `: ${reason}` : "";
    this.#state.options.log(
      `moderation: ${by} ${frame.action} ${target.name}${span}${because}`,
    );
    switch (frame.action) {
      case "kick":
        if (!online) {
          this.#tell(
            session,
            `${target.name} is not connected; nothing to kick`,
          );
          return;
        }
        this.#announce(target, `${target.name} was kicked by ${by}${because}`);
        this.#disconnect(
          target,
          "kicked",
          `you were kicked by ${by}${because}`,
        );
        this.#tell(session, `kicked ${target.name}`);
        return;
      case "ban": {
        const ban: Sanction = {
          fingerprint: fp,
          kind: "ban",
          until: expires,
          reason,
          by,
          createdAt: now,
        };
        for (const key of keys) {
          await this.#store.setSanction({ ...ban, fingerprint: key });
        }
        this.#announce(
          target,
          `${target.name} was banned by ${by}${span}${because}`,
        );
        this.#disconnect(
          target,
          "banned",
          `you were banned by ${by} ${until(ban)}${because}`,
        );
        await this.#removeFromRooms(target);
        this.#tell(session, `banned ${target.name} ${until(ban)}`);
        return;
      }
      case "unban": {
        let lifted = false;
        for (const key of keys) {
          lifted = await this.#store.removeSanction(key, "ban") || lifted;
        }
        this.#tell(
          session,
          lifted ? `unbanned ${target.name}` : `${target.name} was not banned`,
        );
        return;
      }
      case "mute": {
        const mute: Sanction = {
          fingerprint: fp,
          kind: "mute",
          until: expires,
          reason,
          by,
          createdAt: now,
        };
        for (const key of keys) {
          await this.#store.setSanction({ ...mute, fingerprint: key });
        }
        this.#mutes.set(fp, mute);
        for (const s of this.#state.online.get(target.userKey) ?? []) {
          this.#tell(s, `you were muted by ${by} ${until(mute)}${because}`);
        }
        this.#tell(session, `muted ${target.name} ${until(mute)}`);
        return;
      }
      case "unmute": {
        let lifted = false;
        for (const key of keys) {
          lifted = await this.#store.removeSanction(key, "mute") || lifted;
        }
        this.#mutes.delete(fp);
        for (const s of this.#state.online.get(target.userKey) ?? []) {
          this.#tell(s, `${by} lifted your mute`);
        }
        this.#tell(
          session,
          lifted ? `unmuted ${target.name}` : `${target.name} was not muted`,
        );
        return;
      }
    }
  }

  async #target(name: string): Promise<UserRecord> {
    const user = await this.#state.registry.get(name);
    if (!user) throw new ProtocolError("no_such_user", `no user named ${name}`);
    return user;
  }

  #tell(session: HubSession, message: string): void {
    this.#state.send(session, { t: "notice", message });
  }

  #allSessions(): HubSession[] {
    return [...this.#state.online.values()].flatMap((set) => [...set]);
  }

  /** Tell the members of every room `user` is in. */
  #announce(user: UserRecord, message: string): void {
    for (const room of this.#state.rooms.values()) {
      if (!room.members.has(user.userKey)) continue;
      for (const member of room.members) {
        for (const s of this.#state.online.get(member) ?? []) {
          this.#state.send(s, { t: "notice", room: room.name, message });
        }
      }
    }
  }

  /** Send every session of `user` a final error and close it once written. */
  #disconnect(user: UserRecord, code: string, message: string): void {
    for (const s of this.#state.online.get(user.userKey) ?? []) {
      this.#state.send(s, { t: "error", code, message });
      s.sink.drain().finally(() => s.sink.close());
    }
  }
}
