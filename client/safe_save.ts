/**
 * Writing a file where the user asked and nowhere else: no `..`, no
 * symbolic link anywhere on the way, never over an existing file, and
 * readable only by its owner (a transcript is private).
 * @module
 */
import { dirname, isAbsolute, join, normalize, resolve } from "node:path";

/** Why a save was refused; the message says what to do instead. */
export class SaveRefused extends Error {
  /** A refusal with a message for the user. */
  constructor(message: string) {
    super(message);
    this.name = "SaveRefused";
  }
}

/**
 * Resolve `requested` against `cwd` and check it is a safe place for a new
 * file. Returns the absolute path. Throws SaveRefused otherwise.
 */
export async function checkSavePath(
  requested: string,
  cwd: string,
): Promise<string> {
  if (requested.includes("\0")) {
    throw new SaveRefused("the path contains a NUL byte");
  }
  if (/[\\/]$/.test(requested)) {
    throw new SaveRefused(
      `"${requested}" names a directory; give a file name inside it, e.g. ${requested}chat.txt`,
    );
  }
  if (requested.split(/[\\/]+/).includes("..")) {
    throw new SaveRefused(
      `refusing "${requested}": ".." would leave the directory you named; give a path without ".."`,
    );
  }
  const base = isAbsolute(requested) ? "/" : await Deno.realPath(cwd);
  const target = normalize(resolve(base, requested));
  const parent = dirname(target);
  let realParent: string;
  try {
    realParent = await Deno.realPath(parent);
  } catch {
    throw new SaveRefused(
      `the directory ${parent} does not exist; create it first`,
    );
  }
  if (realParent !== parent) {
    throw new SaveRefused(
      `refusing to write through a symbolic link (${parent} is really ${realParent}); give the real path`,
    );
  }
  try {
    const info = await Deno.lstat(target);
    throw new SaveRefused(
      info.isSymlink
        ? `refusing ${target}: it is a symbolic link`
        : info.isDirectory
        ? `${target} is a directory; give a file name inside it`
        : `refusing to overwrite ${target}; choose another name`,
    );
  } catch (error) {
    if (error instanceof SaveRefused) throw error;
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return target;
}

/** Create `path` (checked with checkSavePath) with mode 0600 and write `text`. Never overwrites. */
export async function writeNewFile(path: string, text: string): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { createNew: true, write: true, mode: 0o600 });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new SaveRefused(
        `refusing to overwrite ${path}; choose another name`,
      );
    }
    throw error;
  }
  try {
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) {
      written += await file.write(bytes.subarray(written));
    }
  } finally {
    file.close();
  }
}

/** Save `text` to `requested` (or `defaultName` in `cwd`); returns the absolute path written. */
export async function saveToFile(
  requested: string | null,
  defaultName: string,
  text: string,
  cwd: string,
): Promise<string> {
  const path = await checkSavePath(requested ?? join(".", defaultName), cwd);
  await writeNewFile(path, text);
  return path;
}
