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

/** Test hooks into writeNewFile's steps, to stage a race deterministically. */
export interface SaveSteps {
  /** Runs after the path was checked and before the file is created. */
  beforeCreate?: () => Promise<void>;
  /** Runs after the file was created and before it is verified. */
  afterCreate?: () => Promise<void>;
}

/**
 * Create `path` (checked with checkSavePath) with mode 0600 and write `text`.
 *
 * Deno has no openat, so the parent directories cannot be held open while
 * the file is created; instead the create is exclusive and checked after the
 * fact. What is guaranteed, whatever is renamed or swapped meanwhile:
 * - nothing existing is ever opened, overwritten or truncated: the open is
 *   O_CREAT|O_EXCL, which also fails on a symlink as the last component;
 * - the text is written only through the descriptor of the file this call
 *   created, and only once, after the create, `path`'s parent still has no
 *   symbolic link in it and `path` names that very file (same device and
 *   inode). A parent swapped for a symlink before the create and left so, or
 *   swapped and put back, is caught: nothing is written.
 * What is not guaranteed: during such a swap an empty 0600 file of ours may
 *   be created where the symlink pointed (it is not removed: deleting by
 *   path would race again), and a directory swapped after the check is
 *   renamed by someone who can write to it anyway.
 */
export async function writeNewFile(
  path: string,
  text: string,
  steps: SaveSteps = {},
): Promise<void> {
  await steps.beforeCreate?.();
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
    await steps.afterCreate?.();
    await assertCreatedAt(path, file);
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) {
      written += await file.write(bytes.subarray(written));
    }
  } finally {
    file.close();
  }
}

/** Throw SaveRefused unless `path` (no symlink on the way) names `file`. */
async function assertCreatedAt(path: string, file: Deno.FsFile): Promise<void> {
  const parent = dirname(path);
  const moved = new SaveRefused(
    `refusing to write ${path}: a directory on the way changed while saving; nothing was written`,
  );
  let realParent: string, named: Deno.FileInfo;
  try {
    realParent = await Deno.realPath(parent);
    named = await Deno.lstat(path);
  } catch {
    throw moved;
  }
  const created = await file.stat();
  if (
    realParent !== parent || named.isSymlink || named.dev !== created.dev ||
    named.ino === null || named.ino !== created.ino
  ) throw moved;
}

/**
 * Save `text` to `requested` (or `defaultName` in `cwd`); returns the
 * absolute path written. `steps` are for tests (see writeNewFile).
 */
export async function saveToFile(
  requested: string | null,
  defaultName: string,
  text: string,
  cwd: string,
  steps: SaveSteps = {},
): Promise<string> {
  const path = await checkSavePath(requested ?? join(".", defaultName), cwd);
  await writeNewFile(path, text, steps);
  return path;
}
