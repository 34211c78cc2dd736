/**
 * The user registry: who owns which name. The first key to claim a name
 * owns it (trust on first use); another key for that name, or for a name
 * that looks like it, is refused.
 * @module
 */
import { AuthError } from "../shared/errors.ts";
import { userKey, usernameSkeleton } from "../shared/names.ts";
import { constantTimeEqual } from "../shared/bytes.ts";
import type { HistoryStore, UserRecord } from "./store/history_store.ts";
import { StoreError } from "./store/history_store.ts";

/** Public keys a client presents at login. */
export interface ClaimedIdentity {
  user: string;
  uid: string;
  idKey: Uint8Array;
  encKey: Uint8Array;
}

/** Name → keys, backed by the store, cached in memory. */
export class UserRegistry {
  #store: HistoryStore;
  #cache = new Map<string, UserRecord>();

  /** A registry over `store`. */
  constructor(store: HistoryStore) {
    this.#store = store;
  }

  /** The record of a registered user, or null. */
  async get(name: string): Promise<UserRecord | null> {
    const key = userKey(name);
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const record = await this.#store.getUser(key);
    if (record) this.#cache.set(key, record);
    return record;
  }

  /**
   * Accept a login claim: the registered owner with the same keys, or a new
   * registration. Throws AuthError(`name_taken`) otherwise.
   */
  async claim(claim: ClaimedIdentity, now = Date.now()): Promise<UserRecord> {
    const existing = await this.get(claim.user);
    if (existing) {
      if (!sameKeys(existing, claim)) {
        throw new AuthError(
          "name_taken",
          `the name "${existing.name}" is registered to another key; choose another --user name`,
        );
      }
      return existing;
    }
    const skeleton = usernameSkeleton(claim.user);
    const lookalike = await this.#store.getUserBySkeleton(skeleton);
    if (lookalike) {
      throw new AuthError(
        "name_taken",
        `the name "${claim.user}" is too similar to the registered "${lookalike.name}"; choose another --user name`,
      );
    }
    const record: UserRecord = {
      userKey: userKey(claim.user),
      skeleton,
      name: claim.user,
      uid: claim.uid,
      idKey: claim.idKey,
      encKey: claim.encKey,
      createdAt: now,
    };
    try {
      await this.#store.createUser(record);
    } catch (error) {
      if (error instanceof StoreError && error.code === "conflict") {
        // Registrations are group-committed: the same user logging in on
        // two devices at once races here; the loser with the same keys is
        // the same user, not a thief.
        const winner = await this.#store.getUser(record.userKey);
        if (winner && sameKeys(winner, claim)) {
          this.#cache.set(winner.userKey, winner);
          return winner;
        }
        throw new AuthError(
          "name_taken",
          `the name "${claim.user}" was just registered by another key; choose another --user name`,
        );
      }
      throw error;
    }
    this.#cache.set(record.userKey, record);
    return record;
  }
}

/** True when a registered record holds exactly the claimed keys (constant time). */
function sameKeys(record: UserRecord, claim: ClaimedIdentity): boolean {
  return constantTimeEqual(record.idKey, claim.idKey) &&
    constantTimeEqual(record.encKey, claim.encKey) &&
    record.uid === claim.uid;
}
