/**
 * Turning events into terminal text: timestamps, coloured names, and
 * sanitising everything that came from the network so that no escape
 * sequence, control character or bidi override reaches the terminal.
 * @module
 */
import type { ChatEvent } from "./events.ts";

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

/** How to render. */
export interface RenderOptions {
  color: boolean;
  currentRoom: string;
  /** Lowercased own user name. */
  me: string;
}

const NAME_COLORS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

function paint(on: boolean, code: string, text: string): string {
  return on ? `\x1b[${code}m${text}\x1b[0m` : text;
}

function nameColor(name: string): string {
  let h = 0;
  for (const c of name.toLowerCase()) h = (h * 31 + c.codePointAt(0)!) >>> 0;
  return String(NAME_COLORS[h % NAME_COLORS.length]);
}

function clock(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, "0")}:${
    String(d.getMinutes()).padStart(2, "0")
  }`;
}

/** How a room is shown: `#general`, or `dm bob` from your side. */
export function roomLabel(room: string, me: string): string {
  if (!room.startsWith("dm:")) return `#${sanitizeForTerminal(room)}`;
  const other = room.slice(3).split(":").find((u) => u !== me) ?? me;
  return `dm ${sanitizeForTerminal(other)}`;
}

/** One event as one or more terminal lines (no trailing newline). */
export function renderEvent(event: ChatEvent, options: RenderOptions): string {
  const c = options.color;
  const where = (room: string) =>
    room === options.currentRoom ? "" : `[${roomLabel(room, options.me)}] `;
  switch (event.type) {
    case "message": {
      const name = sanitizeForTerminal(event.from);
      const text = sanitizeForTerminal(event.text);
      // after the name's colour is reset, a history line must turn dim again
      const who = paint(c, nameColor(name), name) +
        (c && event.history ? "\x1b[2m" : "");
      const line = event.kind === "me"
        ? `* ${who} ${text}`
        : `<${who}> ${text}`;
      const out = `${clock(event.ts)} ${where(event.room)}${line}`;
      return event.history ? paint(c, "2", out) : out;
    }
    case "join":
    case "leave": {
      const arrow = event.type === "join" ? "→" : "←";
      const verb = event.type === "join" ? "joined" : "left";
      return paint(
        c,
        "2",
        `${clock(Date.now())} ${arrow} ${
          sanitizeForTerminal(event.user)
        } ${verb} ${roomLabel(event.room, options.me)}`,
      );
    }
    case "presence":
      return paint(
        c,
        "2",
        `${clock(Date.now())} ${where(event.room)}${
          sanitizeForTerminal(event.user)
        } is ${event.online ? "online" : "offline"}`,
      );
    case "ready":
      return paint(
        c,
        "2",
        `logged in as ${event.user} (fingerprint ${event.fingerprint}) in ${
          roomLabel(event.room, options.me)
        }; /help for commands`,
      );
    case "error":
      return paint(c, "31", `! ${sanitizeForTerminal(event.message)}`);
    case "system":
      return event.message.split("\n").map((line) =>
        event.warning
          ? paint(c, "1;31", `!!! ${sanitizeForTerminal(line)}`)
          : `* ${sanitizeForTerminal(line)}`
      ).join("\n");
    default:
      // TODO(issue 11): history, rooms, who, whois, clear
      return `* ${sanitizeForTerminal(JSON.stringify(event))}`;
  }
}
