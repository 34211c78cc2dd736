/**
 * Text safe for a terminal: untrusted names, rooms and messages with every
 * control, bidi and zero-width character made visible, and the few shared
 * ways things are named (`#general`, `dm bob`, `1 member`).
 * @module
 */

/** C0/C1 controls (but tab and newline), DEL, zero-width and bidi-control characters. */
const UNSAFE = new RegExp(
  "[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u200b-\\u200f" +
    "\\u061c\\u2028\\u2029\\u202a-\\u202e\\u2060-\\u2069\\ufeff\\ufff9-\\ufffb]",
  "g",
);

/**
 * Make untrusted text safe to print: control, bidi and zero-width
 * characters become visible `\u{…}` escapes; tabs and newlines become spaces.
 * @example
 * ```ts
 * import { sanitizeForTerminal } from "./render.ts";
 * console.assert(sanitizeForTerminal("a\x1b[2Jb") === "a\\u{1b}[2Jb");
 * ```
 */
export function sanitizeForTerminal(text: string): string {
  return text.replace(/[\t\n]/g, " ").replace(
    UNSAFE,
    (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`,
  );
}

/** `1 member`, `2 members`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** How a room is shown: `#general`, or `dm bob` from your side. */
export function roomLabel(room: string, me: string): string {
  if (!room.startsWith("dm:")) return `#${sanitizeForTerminal(room)}`;
  const other = room.slice(3).split(":").find((u) => u !== me) ?? me;
  return `dm ${sanitizeForTerminal(other)}`;
}
