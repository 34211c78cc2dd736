/**
 * Usernames and room names: validation, normalisation and look-alike
 * skeletons. Names are ASCII only (letters, digits, `_`, `-`), so no
 * homoglyph from another script can pass; within ASCII, names whose
 * skeletons match (e.g. `alice` and `a1ice`) are treated as the same name.
 * @module
 */

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/** Why a name was refused, or null when it is acceptable. */
export function usernameProblem(name: string): string | null {
  if (name.length === 0) return "a username cannot be empty";
  if (name.length > 32) return "a username has at most 32 characters";
  if (!NAME_PATTERN.test(name)) {
    return "a username uses only letters, digits, '_' and '-', and starts with a letter or digit";
  }
  return null;
}

/** True when `name` is a valid username. */
export function isValidUsername(name: string): boolean {
  return usernameProblem(name) === null;
}

/** The case-folded form used as the identity of a user everywhere (crypto labels, registry keys). */
export function userKey(name: string): string {
  return name.toLowerCase();
}

/**
 * The look-alike skeleton: two names with the same skeleton cannot both be
 * registered. Folds case; digits that read as letters (`0`→o, `1`→l, `2`→z,
 * `5`→s, `8`→b, `9`→g; each digit to its own letter, so numbered names stay apart) and `i`→l; the pairs `rn`→m, `vv`→w, `cl`→d;
 * `_` into `-`, runs of `-` into one, and trailing `-`/`_` away.
 * @example
 * ```ts
 * import { usernameSkeleton } from "./names.ts";
 * console.assert(usernameSkeleton("A1ice") === usernameSkeleton("alice"));
 * console.assert(usernameSkeleton("clave") === usernameSkeleton("dave"));
 * console.assert(usernameSkeleton("alice-") === usernameSkeleton("alice"));
 * ```
 */
export function usernameSkeleton(name: string): string {
  return name.toLowerCase()
    .replace(/[0-9i_]/g, (c) => SKELETON_MAP[c] ?? c)
    .replaceAll("rn", "m")
    .replaceAll("vv", "w")
    .replaceAll("cl", "d")
    .replace(/-+/g, "-")
    .replace(/-+$/, "");
}

const SKELETON_MAP: Record<string, string> = {
  "0": "o",
  "1": "l",
  "i": "l",
  "2": "z",
  "5": "s",
  // not 6 as well: numbered names (member6, member8) must stay apart
  "8": "b",
  "9": "g",
  "_": "-",
};

/** Why a room name was refused, or null. Accepts an optional leading `#`. */
export function roomNameProblem(name: string): string | null {
  const bare = name.startsWith("#") ? name.slice(1) : name;
  if (!NAME_PATTERN.test(bare)) {
    return "a room name has 1-32 letters, digits, '_' or '-', starting with a letter or digit";
  }
  return null;
}

/** Normalise a public room name: strip `#`, lowercase. Call roomNameProblem first. */
export function normalizeRoomName(name: string): string {
  return (name.startsWith("#") ? name.slice(1) : name).toLowerCase();
}

const DM_PREFIX = "dm:";

/** The room name of the direct conversation between two users (order-independent). */
export function dmRoomName(a: string, b: string): string {
  const [first, second] = [userKey(a), userKey(b)].sort();
  return `${DM_PREFIX}${first}:${second}`;
}

/** The two user keys of a DM room name, or null if `room` is not a DM room. */
export function dmParticipants(room: string): [string, string] | null {
  if (!room.startsWith(DM_PREFIX)) return null;
  const parts = room.slice(DM_PREFIX.length).split(":");
  if (parts.length !== 2) return null;
  const [a, b] = parts as [string, string];
  if (!isValidUsername(a) || !isValidUsername(b) || a >= b) return null;
  if (a !== userKey(a) || b !== userKey(b)) return null;
  return [a, b];
}

/** True for any room name the server accepts on the wire: a public room or a DM room. */
export function isValidRoom(room: string): boolean {
  if (dmParticipants(room)) return true;
  return !room.startsWith("#") && roomNameProblem(room) === null &&
    room === room.toLowerCase();
}
