/**
 * The user's keys on disk: one 0600 JSON file per local user under
 * `<config>/keys/`, in a 0700 directory; refused if anyone but the owner can
 * read it.
 *
 * Keys for a name are kept only once a server accepted them, so a refused
 * first login (a taken or look-alike name, a spent invite) leaves nothing
 * behind. Between "sent to the server" and "accepted" they wait in
 * `keys/NAME.pending.json` (same mode): written and synced before the login
 * that carries them, renamed to `NAME.json` once the server accepted them,
 * deleted when it refused them. If the client dies after the server
 * registered the name but before the rename, the next run finds the pending
 * file and logs in with the same keys, so the name is never lost to keys that
 * were never saved. (A name can hold no `.`, so no user's key file can be
 * called `X.pending.json`.)
 * @module
 */
import { join } from "node:path";
import {
  exportIdentity,
  generateIdentity,
  type Identity,
  importIdentity,
  type StoredIdentity,
} from "../shared/crypto/identity.ts";
import { CliError } from "../shared/errors.ts";
import { userKey, usernameProblem } from "../shared/names.ts";
import {
  assertOwnerOnly,
  ensurePrivateDir,
  writeNewPrivateFile,
} from "./config_paths.ts";

/** A loaded identity and where it lives. */
export interface LoadedIdentity {
  identity: Identity;
  path: string;
  created: boolean;
}

/** Path of the key file for `user` under `configDir`. */
export function keyFilePath(configDir: string, user: string): string {
  return join(configDir, "keys", `${userKey(user)}.json`);
}

/** Path of the keys of `user` that wait for a server to accept them. */
export function pendingKeyFilePath(configDir: string, user: string): string {
  return join(configDir, "keys", `${userKey(user)}.pending.json`);
}

function checkUser(user: string): void {
  const problem = usernameProblem(user);
  if (problem) {
    throw new CliError(`invalid --user "${user}": ${problem}`, {
      hint: "pick a name like alice or bob_2",
    });
  }
}

/** The identity stored at `path`, or null when there is no such file. */
async function readIdentityFile(path: string): Promise<Identity | null> {
  let text: string;
  try {
    await assertOwnerOnly(path);
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  let stored: StoredIdentity;
  try {
    stored = JSON.parse(text);
  } catch {
    throw new CliError(
      `key file ${path} is not valid JSON; restore it from a backup`,
    );
  }
  return await importIdentity(stored);
}

/** Write `identity` to a new 0600 file at `path`; false if the file exists. */
async function writeIdentityFile(
  path: string,
  identity: Identity,
): Promise<boolean> {
  await ensurePrivateDir(join(path, ".."));
  const stored = await exportIdentity(identity);
  try {
    await writeNewPrivateFile(path, JSON.stringify(stored, null, 2) + "\n");
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  }
}

/** The saved identity of `user`, or null when the user has no keys here. */
export async function loadIdentity(
  configDir: string,
  user: string,
): Promise<LoadedIdentity | null> {
  checkUser(user);
  const path = keyFilePath(configDir, user);
  const identity = await readIdentityFile(path);
  return identity ? { identity, path, created: false } : null;
}

/**
 * The saved identity of `user`, created now if there is none (`chat id
 * --create`). Keys waiting in a pending file are adopted rather than
 * replaced: a server may already know them.
 */
export async function createIdentity(
  configDir: string,
  user: string,
): Promise<LoadedIdentity> {
  const saved = await loadIdentity(configDir, user);
  if (saved) return saved;
  const path = keyFilePath(configDir, user);
  const pendingPath = pendingKeyFilePath(configDir, user);
  const pending = await readIdentityFile(pendingPath);
  if (pending) {
    // the same file under its final name (a link never replaces a file)
    const linked = await Deno.link(pendingPath, path).then(
      () => true,
      (error) => {
        if (error instanceof Deno.errors.AlreadyExists) return false;
        throw error;
      },
    );
    if (linked) {
      await removeIfPresent(pendingPath);
      return { identity: pending, path, created: true };
    }
  } else {
    const identity = await generateIdentity(user);
    if (await writeIdentityFile(path, identity)) {
      return { identity, path, created: true };
    }
  }
  return await createIdentity(configDir, user); // another process was first
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * The keys of a first login: held in memory until `stage()` writes them to
 * the pending file (just before the login that carries them), then kept
 * with `accept()` or dropped with `refuse()`. For a user whose keys are
 * saved already, every step is a no-op.
 */
export class FirstLoginKeys {
  /** Where the keys are kept once accepted. */
  readonly path: string;
  readonly #pendingPath: string;
  #identity: Identity;
  #state: "saved" | "new" | "staged" | "accepted" | "refused";

  private constructor(
    identity: Identity,
    path: string,
    pendingPath: string,
    saved: boolean,
  ) {
    this.#identity = identity;
    this.path = path;
    this.#pendingPath = pendingPath;
    this.#state = saved ? "saved" : "new";
  }

  /** The saved keys of `user`, else keys left pending by an earlier run, else new ones (not yet on disk). */
  static async open(configDir: string, user: string): Promise<FirstLoginKeys> {
    const saved = await loadIdentity(configDir, user);
    const pendingPath = pendingKeyFilePath(configDir, user);
    const path = keyFilePath(configDir, user);
    if (saved) {
      return new FirstLoginKeys(saved.identity, path, pendingPath, true);
    }
    const pending = await readIdentityFile(pendingPath);
    const identity = pending ?? await generateIdentity(user);
    const keys = new FirstLoginKeys(identity, path, pendingPath, false);
    if (pending) keys.#state = "staged";
    return keys;
  }

  /** The keys to log in with. */
  get identity(): Identity {
    return this.#identity;
  }

  /** True when these keys are not saved yet (a first login). */
  get isNew(): boolean {
    return this.#state !== "saved" && this.#state !== "accepted";
  }

  /**
   * Write the keys to the pending file before they are sent. If another
   * process staged keys for this user first, theirs are returned and must
   * be used instead.
   */
  async stage(): Promise<Identity> {
    for (let attempt = 0; this.#state === "new" && attempt < 3; attempt++) {
      if (await writeIdentityFile(this.#pendingPath, this.#identity)) {
        this.#state = "staged";
        break;
      }
      // staged by another process (unless it was refused and removed again)
      const theirs = await readIdentityFile(this.#pendingPath);
      if (theirs) {
        this.#identity = theirs;
        this.#state = "staged";
      }
    }
    if (this.#state === "new") {
      throw new CliError(
        `cannot write ${this.#pendingPath}: it keeps changing`,
      );
    }
    return this.#identity;
  }

  /** The server accepted the keys: keep them as the user's key file. */
  async accept(): Promise<void> {
    if (this.#state !== "staged") return;
    try {
      await Deno.rename(this.#pendingPath, this.path);
    } catch (error) {
      // a concurrent first login of the same user renamed it already
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      await Deno.stat(this.path);
    }
    this.#state = "accepted";
  }

  /** The server refused the keys and registered nothing: forget them. */
  async refuse(): Promise<void> {
    if (this.#state !== "staged") return;
    await removeIfPresent(this.#pendingPath);
    this.#state = "refused";
  }
}
