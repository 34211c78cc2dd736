/**
 * Saved servers: after a successful join the client remembers the server's
 * address and the CA it trusted, so `chat join --user NAME` alone reconnects
 * and the CA stays pinned. Kept in `<config>/servers.json`, mode 0600.
 * @module
 */
import { join } from "node:path";
import { userKey } from "../shared/names.ts";
import {
  assertOwnerOnly,
  ensurePrivateDir,
  replacePrivateFile,
} from "./config_paths.ts";

/** One remembered server. */
export interface SavedServer {
  /** `host:port` as the user dials it. */
  address: string;
  /** The CA certificate it was trusted with (PEM), or null for system roots. */
  caPem: string | null;
  lastUsed: string;
  users: string[];
}

interface BookFile {
  last: string | null;
  servers: SavedServer[];
  /** The server each user (by userKey) joined last; absent in older files. */
  lastByUser?: Record<string, string>;
}

/** The saved server `chat join` without --server uses for a user, and how sure that is. */
export interface SavedChoice {
  server: SavedServer;
  /** Why this one, for the user: "NAME used it last", "the one joined last". */
  reason: string;
  /** True when other saved servers would have fit as well. */
  ambiguous: boolean;
}

/** The saved servers of this config directory. */
export class ServerBook {
  #path: string;
  #data: BookFile;

  private constructor(path: string, data: BookFile) {
    this.#path = path;
    this.#data = data;
  }

  /** Load (or start) the book under `configDir`. */
  static async open(configDir: string): Promise<ServerBook> {
    const path = join(configDir, "servers.json");
    try {
      await assertOwnerOnly(path);
      const data = JSON.parse(await Deno.readTextFile(path)) as BookFile;
      const byUser = data.lastByUser;
      return new ServerBook(path, {
        last: typeof data.last === "string" ? data.last : null,
        servers: Array.isArray(data.servers) ? data.servers : [],
        lastByUser: typeof byUser === "object" && byUser !== null &&
            !Array.isArray(byUser)
          ? byUser
          : {},
      });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return new ServerBook(path, {
          last: null,
          servers: [],
          lastByUser: {},
        });
      }
      throw error;
    }
  }

  /** Every saved server, most recently used first. */
  get servers(): SavedServer[] {
    return [...this.#data.servers].sort((a, b) =>
      b.lastUsed.localeCompare(a.lastUsed)
    );
  }

  /** The server joined last, if any. */
  get last(): SavedServer | undefined {
    return this.#data.servers.find((s) => s.address === this.#data.last);
  }

  /**
   * The server to use for `user` when none is named: the one this user
   * joined last; else, of the servers this user has joined, the one used
   * last; else the server joined last. Ambiguous when more than one
   * server fitted and nothing says which this user meant.
   */
  choose(user: string): SavedChoice | undefined {
    const key = userKey(user);
    const own = this.#data.lastByUser?.[key];
    const mine = own === undefined ? undefined : this.find(own);
    if (mine) {
      return { server: mine, reason: `${user} used it last`, ambiguous: false };
    }
    const all = this.servers; // most recently used first
    const theirs = all.filter((s) => s.users.some((u) => userKey(u) === key));
    const pool = theirs.length > 0 ? theirs : all;
    const server = pool[0];
    if (!server) return undefined;
    return {
      server,
      reason: `last used ${server.lastUsed}`,
      ambiguous: pool.length > 1,
    };
  }

  /** The saved entry for `address`. */
  find(address: string): SavedServer | undefined {
    return this.#data.servers.find((s) => s.address === address);
  }

  /** Remember a successful join (the CA it was trusted with, and the user). */
  async remember(
    address: string,
    caPem: string | null,
    user: string,
  ): Promise<void> {
    const now = new Date().toISOString();
    const entry = this.find(address);
    if (entry) {
      if (caPem !== null) entry.caPem = caPem;
      entry.lastUsed = now;
      if (!entry.users.includes(user)) entry.users.push(user);
    } else {
      this.#data.servers.push({ address, caPem, lastUsed: now, users: [user] });
    }
    this.#data.last = address;
    this.#data.lastByUser = {
      ...this.#data.lastByUser,
      [userKey(user)]: address,
    };
    await ensurePrivateDir(join(this.#path, ".."));
    await replacePrivateFile(
      this.#path,
      JSON.stringify(this.#data, null, 2) + "\n",
    );
  }
}
