/**
 * Where the client keeps its files: `$XDG_CONFIG_HOME/chat`, falling back
 * to `~/.config/chat`.
 * @module
 */
import { join } from "node:path";
import { CliError } from "../shared/errors.ts";

/** The client's config directory. Throws a {@linkcode CliError} with a hint when neither variable is set. */
export function configDir(): string {
  const xdg = Deno.env.get("XDG_CONFIG_HOME");
  if (xdg) return join(xdg, "chat");
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  if (home) return join(home, ".config", "chat");
  throw new CliError("cannot find a config directory: HOME is not set", {
    hint: "set XDG_CONFIG_HOME or HOME",
  });
}

/** Create `dir` (and parents) with mode 0700 if missing. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
}

/** Throw a {@linkcode CliError} saying to chmod it if the file at `path` can be read by group or others. */
export async function assertOwnerOnly(path: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  const info = await Deno.stat(path);
  const mode = (info.mode ?? 0) & 0o777;
  if (mode & 0o077) {
    throw new CliError(
      `${path} can be read by other users (mode ${
        mode.toString(8)
      }); refusing to use it`,
      { hint: `run: chmod 600 ${path}` },
    );
  }
}

/** Write a new file readable only by its owner; fails if it exists. */
export async function writeNewPrivateFile(
  path: string,
  text: string,
): Promise<void> {
  const file = await Deno.open(path, {
    createNew: true,
    write: true,
    mode: 0o600,
  });
  try {
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) {
      written += await file.write(bytes.subarray(written));
    }
    await file.sync();
  } finally {
    file.close();
  }
}

/** Replace a private file atomically: write a 0600 temp file, then rename over. */
export async function replacePrivateFile(
  path: string,
  text: string,
): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  await writeNewPrivateFile(temp, text);
  try {
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}
