/**
 * The permissions `chat` runs with, in one place. `scripts/compile.ts` bakes
 * exactly these into the compiled binary, and `tests/permissions_test.ts`
 * runs the program with exactly these and nothing more. The reasons, and why
 * file access is not narrowed to paths, are in docs/operations.md
 * ("Permissions of the compiled binary").
 *
 * This file must not grant anything the program does not use: no
 * `--allow-run`, `--allow-ffi`, `--allow-sys`, `--allow-import` and never
 * `-A`/`--allow-all`.
 * @module
 */

/** The environment variables the program reads, and nothing else. */
export const ENV_VARIABLES: readonly string[] = [
  // client/config_paths.ts: the key directory is $XDG_CONFIG_HOME/chat ...
  "XDG_CONFIG_HOME",
  // ... else $HOME/.config/chat ...
  "HOME",
  // ... else %USERPROFILE%\.config\chat (Windows, where HOME is usually unset).
  "USERPROFILE",
  // client/terminal_ui.ts: no colours when set. Deno 2.9.6 lets any program
  // read NO_COLOR without permission; it is listed because the program reads it.
  "NO_COLOR",
];

/** The permission flags of `chat`, for `deno run` and `deno compile`. */
export const PERMISSION_FLAGS: readonly string[] = [
  // Never prompt: fail with NotCapable instead. `deno compile` records
  // prompt=true unless told otherwise, and a binary that stops to ask for a
  // permission on a terminal (or hangs a script) is a bug, not a feature.
  "--no-prompt",
  // serve listens on the --host/--port the operator chooses; join, and the
  // reconnects after it, connect to the HOST:PORT the user names (or the one
  // saved from an invite). None of them is known when the binary is built.
  "--allow-net",
  // Files the user names at run time: --data and --certs (serve, invite),
  // --cert/--key and --ops-file (serve), --ca (join), the key, trust and
  // saved-server files under $XDG_CONFIG_HOME/chat or ~/.config/chat, and the
  // working directory that relative paths and /save resolve against. Only
  // known at run time, so not narrowed: see docs/operations.md.
  "--allow-read",
  // Writes to the same run-time paths: the SQLite database and its WAL in
  // --data, the generated CA and certificates in --certs, the client's keys,
  // trust and saved servers, and /save transcripts wherever the user says.
  "--allow-write",
  // Exactly the variables above: the program reads no others.
  `--allow-env=${ENV_VARIABLES.join(",")}`,
];
