/**
 * The user's keys on disk: one 0600 JSON file per local user under
 * `<config>/keys/`, in a 0700 directory. Created on first use; refused if
 * anyone but the owner can read it.
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

/** Load the identity of `user`, generating and saving it on first use. */
export async function loadOrCreateIdentity(
  configDir: string,
  user: string,
): Promise<LoadedIdentity> {
  const problem = usernameProblem(user);
  if (problem) {
    throw Object.assign(new Error(`invalid --user "${user}": ${problem}`), {
      hint: "pick a name like alice or bob_2",
    });
  }
  const path = keyFilePath(configDir, user);
  let text: string | null = null;
  try {
    await assertOwnerOnly(path);
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (text !== null) {
    let stored: StoredIdentity;
    try {
      stored = JSON.parse(text);
    } catch {
      throw new Error(
        `key file ${path} is not valid JSON; restore it from a backup`,
      );
    }
    return { identity: await importIdentity(stored), path, created: false };
  }
  await ensurePrivateDir(join(configDir, "keys"));
  const identity = await generateIdentity(user);
  const stored = await exportIdentity(identity);
  try {
    await writeNewPrivateFile(path, JSON.stringify(stored, null, 2) + "\n");
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      // another process created it first: use theirs
      return loadOrCreateIdentity(configDir, user);
    }
    throw error;
  }
  return { identity, path, created: true };
}
