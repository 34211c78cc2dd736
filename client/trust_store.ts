/**
 * What this user believes about other users' keys (trust on first use):
 * the fingerprint first seen for each name, and which ones were verified
 * with /verify. Kept in a 0600 file per local user.
 * @module
 */
import { join } from "node:path";
import {
  constantTimeEqual,
  fromBase64Url,
  toBase64Url,
} from "../shared/bytes.ts";
import { userKey } from "../shared/names.ts";
import {
  assertOwnerOnly,
  ensurePrivateDir,
  replacePrivateFile,
} from "./config_paths.ts";

/** What we know of one other user. */
export interface TrustEntry {
  fingerprint: string;
  verified: boolean;
  /** Their key changed after we verified them: send them nothing until re-verified. */
  blocked: boolean;
}

/** Result of seeing someone's key. */
export type KeyObservation = "new" | "same" | "changed";

/** A persistent map of user → trusted fingerprint, and whom this user ignores. */
export class TrustStore {
  #path: string | null;
  #entries: Map<string, TrustEntry>;
  #ignored: Set<string>;

  private constructor(
    path: string | null,
    entries: Map<string, TrustEntry>,
    ignored: Set<string> = new Set(),
  ) {
    this.#path = path;
    this.#entries = entries;
    this.#ignored = ignored;
  }

  /** Load (or start) the trust store of local user `me`. */
  static async open(configDir: string, me: string): Promise<TrustStore> {
    const path = join(configDir, "trust", `${userKey(me)}.json`);
    const entries = new Map<string, TrustEntry>();
    const ignored = new Set<string>();
    try {
      await assertOwnerOnly(path);
      const data = JSON.parse(await Deno.readTextFile(path));
      for (const [name, entry] of Object.entries(data.users ?? {})) {
        entries.set(name, entry as TrustEntry);
      }
      for (const name of data.ignored ?? []) {
        if (typeof name === "string") ignored.add(name);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return new TrustStore(path, entries, ignored);
  }

  /** A store that keeps nothing on disk (for tests and tools). */
  static inMemory(): TrustStore {
    return new TrustStore(null, new Map());
  }

  /** The entry for `user`, if any. */
  get(user: string): TrustEntry | undefined {
    return this.#entries.get(userKey(user));
  }

  /** Record that `user` presented `fingerprint`; say whether it is new, the same, or changed. */
  async observe(
    user: string,
    fingerprint: Uint8Array,
  ): Promise<KeyObservation> {
    const key = userKey(user);
    const entry = this.#entries.get(key);
    const fp = toBase64Url(fingerprint);
    if (!entry) {
      this.#entries.set(key, {
        fingerprint: fp,
        verified: false,
        blocked: false,
      });
      await this.#save();
      return "new";
    }
    if (constantTimeEqual(fromBase64Url(entry.fingerprint), fingerprint)) {
      return "same";
    }
    this.#entries.set(key, {
      fingerprint: fp,
      verified: false,
      blocked: entry.verified || entry.blocked,
    });
    await this.#save();
    return "changed";
  }

  /** Mark `user` with `fingerprint` as verified (clears any block). */
  async verify(user: string, fingerprint: Uint8Array): Promise<void> {
    this.#entries.set(userKey(user), {
      fingerprint: toBase64Url(fingerprint),
      verified: true,
      blocked: false,
    });
    await this.#save();
  }

  /** Hide (or show again) `user`'s messages; saved with the trust store. */
  async setIgnored(user: string, ignored: boolean): Promise<void> {
    if (ignored) this.#ignored.add(userKey(user));
    else this.#ignored.delete(userKey(user));
    await this.#save();
  }

  /** True when `user`'s messages are hidden. */
  isIgnored(user: string): boolean {
    return this.#ignored.has(userKey(user));
  }

  /** Everyone this user ignores. */
  get ignored(): string[] {
    return [...this.#ignored].sort();
  }

  /** True when we must not encrypt to `user` until they are verified again. */
  isBlocked(user: string): boolean {
    return this.#entries.get(userKey(user))?.blocked ?? false;
  }

  async #save(): Promise<void> {
    if (!this.#path) return;
    await ensurePrivateDir(join(this.#path, ".."));
    const users = Object.fromEntries(this.#entries);
    await replacePrivateFile(
      this.#path,
      JSON.stringify({ users, ignored: [...this.#ignored] }, null, 2) + "\n",
    );
  }
}
