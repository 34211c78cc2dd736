/**
 * What moderation keeps: sanctions (bans, mutes) by key fingerprint, the
 * invite allowlist, and server settings such as the message of the day.
 * @module
 */

/** A ban or a mute on one key. `until` null means until lifted. */
export interface Sanction {
  fingerprint: string;
  kind: "ban" | "mute";
  until: number | null;
  reason: string;
  by: string;
  createdAt: number;
}

/** What became of an attempt to redeem an invite. */
export type InviteRedemption = "ok" | "expired" | "used" | "unknown";

/** Persistent moderation state. */
export interface ModerationStore {
  /** Set (or replace) a sanction. */
  setSanction(sanction: Sanction): Promise<void>;
  /** Lift a sanction; true if there was one. */
  removeSanction(fingerprint: string, kind: "ban" | "mute"): Promise<boolean>;
  /** The sanction of this kind on this key, if any (expired ones included). */
  getSanction(
    fingerprint: string,
    kind: "ban" | "mute",
  ): Promise<Sanction | null>;
  /** Admit this key on an invite-only server. */
  allow(fingerprint: string, by: string, at: number): Promise<void>;
  /** True if this key was allowed. */
  isAllowed(fingerprint: string): Promise<boolean>;
  /** A server setting, or null. */
  getSetting(key: string): Promise<string | null>;
  /** Set a server setting. */
  setSetting(key: string, value: string): Promise<void>;
  /** Record an invite by the SHA-256 (hex) of its secret. */
  createInvite(
    hash: string,
    uses: number,
    expiresAt: number,
    createdAt: number,
  ): Promise<void>;
  /** Use one of an invite's uses, atomically. */
  redeemInvite(hash: string, now: number): Promise<InviteRedemption>;
  /** Give back a use (the login it was spent on failed). */
  restoreInvite(hash: string): Promise<void>;
}
