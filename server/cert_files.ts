/**
 * Files of TLS material: secrets written once with mode 0600, public files
 * replaced whole by a rename, and a key file others can read, or that is a
 * symbolic link, refused.
 * @module
 */

/**
 * Throw if the key file at `path` exists and is a symbolic link (whoever
 * controls where it points chooses the server's key) or others can read it.
 */
export async function refuseReadableKey(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (info.isSymlink) {
    throw new Error(
      `${path} is a symbolic link; refusing to use a key file through a ` +
        `link. Put the key file itself there (mode 600) and start again.`,
    );
  }
  const mode = info.mode;
  if (mode !== null && (mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8);
    throw new Error(
      `${path} can be read by other users (mode ${octal}); ` +
        `run \`chmod 600 ${path}\` and start again.`,
    );
  }
}

/** Create a new file readable by its owner only (0600), synced; never overwrites. */
export async function writeSecret(path: string, text: string): Promise<void> {
  const file = await Deno.open(path, {
    createNew: true,
    write: true,
    mode: 0o600,
  });
  try {
    await _writeAll(file, new TextEncoder().encode(text));
    await file.syncData();
  } finally {
    file.close();
  }
}

/** Write to a temporary file and rename it, so a crash never leaves half a certificate. */
export async function writePublic(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp`;
  const file = await Deno.open(temporary, {
    create: true,
    truncate: true,
    write: true,
    mode: 0o644,
  });
  try {
    await _writeAll(file, new TextEncoder().encode(text));
    await file.syncData();
  } finally {
    file.close();
  }
  await Deno.rename(temporary, path);
}

async function _writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    done += await file.write(bytes.subarray(done));
  }
}

/** The file's text, or null if it does not exist. */
export async function readIfPresent(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** Remove the file if it exists. */
export async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
