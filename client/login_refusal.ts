/**
 * A first login the server refused: the hint that fits each refusal code
 * the server sends (server/session.ts, registry.ts, moderation.ts,
 * connection_tracker.ts), and whether the refusal proves the server kept
 * nothing of the new keys (so they may be forgotten).
 * @module
 */

/** What the hint may mention. */
export interface RefusalContext {
  /** The --user name. */
  user: string;
  /** True when the login presented an invite code. */
  invite: boolean;
  /** Our key's fingerprint as 64 hex digits (what an operator's /allow takes). */
  fingerprintHex: string;
}

type HintFor = (c: RefusalContext) => string;

const HINTS: Readonly<Record<string, HintFor>> = {
  bad_invite: (c) =>
    `an invite works a set number of times until it expires: ask for a new one; if you already joined with it, leave out --invite: chat join --user ${c.user}`,
  name_taken: () =>
    "that name belongs to another key on this server; pick another --user (or use the config directory that holds its key)",
  not_invited: (c) =>
    `ask an operator to run: /allow ${c.fingerprintHex} (or for an invite: chat invite); \`chat id --user ${c.user}\` shows your fingerprint`,
  banned: () => "only an operator of this server can lift a ban",
  wrong_server: () =>
    "pass --server with one of the names above (the names in the server's certificate)",
  too_many_failures: () =>
    "wait a minute, then try again with the right --user and key",
  server_full: () => "the server is at its connection limit; try again later",
  too_many_connections: () =>
    "close some of your other chat sessions to this server, or try again later",
  room_full: () => "pick another room with --room",
  bad_key: () =>
    "your key file was refused; check that keys/NAME.json under your config directory is the one chat created",
  auth_failed: () =>
    "the login signature did not verify; check that client and server run the same chat version",
  auth_required: () => "check that client and server run the same chat version",
  internal: () =>
    "the server failed to log you in; try again later, or tell its operator",
  store_unavailable: () =>
    "the server cannot store anything right now; try again later, or tell its operator",
};

/** The hint for a refused first login with `code` (undefined: no code came). */
export function loginRefusalHint(
  code: string | undefined,
  context: RefusalContext,
): string {
  const hint = code === undefined ? undefined : HINTS[code];
  return hint?.(context) ?? "check --server, --ca and --user";
}

/**
 * Codes after which the server has certainly not registered the name with
 * the login's keys: it refused before (or instead of) claiming the name.
 * Not here: `room_full` (the login was accepted, only the room was not),
 * `internal` and `store_unavailable` (a failure that may come after the
 * claim), and a connection lost without a code.
 */
const NOTHING_REGISTERED: ReadonlySet<string> = new Set([
  "bad_invite",
  "name_taken",
  "banned",
  "wrong_server",
  "too_many_failures",
  "server_full",
  "too_many_connections",
  "bad_key",
  "auth_failed",
  "auth_required",
]);

/** What to do with first-login keys after the login ended with `code`. */
export function keysAfterRefusal(
  code: string | undefined,
): "forget" | "keep" | "pending" {
  if (code !== undefined && NOTHING_REGISTERED.has(code)) return "forget";
  // room_full: accepted, only the room was not. not_invited: the refusal
  // names this key's fingerprint for an operator's /allow, so the next
  // login must present the same key
  if (code === "room_full" || code === "not_invited") return "keep";
  return "pending";
}
