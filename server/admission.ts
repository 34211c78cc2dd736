/**
 * Admission: who may log in and who may speak. At login it decides on a
 * key's bans, the invite-only allowlist and invites; at message time on
 * its mutes. Sanctions are recorded here too (moderation decides when), so
 * the cache of mutes stays true. It knows nothing of sessions, rooms or
 * commands: the login, the relay and moderation all ask it, and it asks
 * only the store.
 * @module
 */
import { AuthError } from "../shared/errors.ts";
import { toHex } from "../shared/bytes.ts";
import { inviteSecretHash } from "../shared/invite_code.ts";
import type { ModerationStore, Sanction } from "./store/moderation_store.ts";

/** A sanction's end as words: "until lifted" or "until ISO-TIME". */
export function untilText(s: Sanction): string {
  return s.until === null
    ? "until lifted"
    : `until ${new Date(s.until).toISOString()}`;
}

function active(s: Sanction | null, now: number): Sanction | null {
  return s && (s.until === null || s.until > now) ? s : null;
}

/** The keys a sanction on a user is recorded under: fingerprint and identity key. */
function sanctionKeys(fp: string, idKey: Uint8Array): string[] {
  return [fp, `id:${toHex(idKey)}`];
}

/** Who is an operator, who is banned, muted, allowed or invited. */
export class Admission {
  #store: ModerationStore;
  #ops: Set<string>;
  #inviteOnly: boolean;
  /** fingerprint → its mute (null: none), read once from the store. */
  #mutes = new Map<string, Sanction | null>();

  /** Admission over `store`, with the operators' fingerprints and the invite-only setting. */
  constructor(store: ModerationStore, ops: Set<string>, inviteOnly: boolean) {
    this.#store = store;
    this.#ops = ops;
    this.#inviteOnly = inviteOnly;
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

  /** Admit a key for good (it came with a valid invite, or an operator allowed it). */
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
        `you are banned from this server ${untilText(ban)}${
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
        `this server is invite-only and does not admit the key with fingerprint ${fp}`,
      );
    }
    return null;
  }

  /** The mute on this key, if one is in force. */
  async muteOf(
    fp: string,
    idKey: Uint8Array,
    now = Date.now(),
  ): Promise<Sanction | null> {
    if (!this.#mutes.has(fp)) {
      this.#mutes.set(fp, await this.#activeSanction(fp, idKey, "mute", now));
    }
    return active(this.#mutes.get(fp) ?? null, now);
  }

  /** Record a ban or mute on a user's keys (`sanction.fingerprint` is theirs). */
  async impose(idKey: Uint8Array, sanction: Sanction): Promise<void> {
    for (const key of sanctionKeys(sanction.fingerprint, idKey)) {
      await this.#store.setSanction({ ...sanction, fingerprint: key });
    }
    if (sanction.kind === "mute") {
      this.#mutes.set(sanction.fingerprint, sanction);
    }
  }

  /** Lift a ban or mute from a user's keys; true if there was one. */
  async lift(
    fp: string,
    idKey: Uint8Array,
    kind: "ban" | "mute",
  ): Promise<boolean> {
    let lifted = false;
    for (const key of sanctionKeys(fp, idKey)) {
      lifted = await this.#store.removeSanction(key, kind) || lifted;
    }
    if (kind === "mute") this.#mutes.delete(fp);
    return lifted;
  }

  async #activeSanction(
    fp: string,
    idKey: Uint8Array,
    kind: "ban" | "mute",
    now: number,
  ): Promise<Sanction | null> {
    for (const key of sanctionKeys(fp, idKey)) {
      const found = active(await this.#store.getSanction(key, kind), now);
      if (found) return found;
    }
    return null;
  }
}
