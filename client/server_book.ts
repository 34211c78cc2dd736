/**
 * Saved servers: after a successful join the client remembers the server's
 * address and the CA it trusted, so `chat join --user NAME` alone reconnects
 * and the CA stays pinned. Kept in `<config>/servers.json`, mode 0600.
 * @module
 */
import { join } from "node:path";
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
      return new ServerBook(path, {
        last: typeof data.last === "string" ? data.last : null,
        servers: Array.isArray(data.servers) ? data.servers : [],
      });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return new ServerBook(path, { last: null, servers: [] });
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
    await ensurePrivateDir(join(this.#path, ".."));
    await replacePrivateFile(
      this.#path,
      JSON.stringify(this.#data, null, 2) + "\n",
    );
  }
}
