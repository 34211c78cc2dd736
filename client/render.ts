/**
 * Turning events into terminal text: timestamps, coloured names, history
 * headers and date lines. Everything that came from the network goes through
 * sanitizeForTerminal (terminal_text.ts, re-exported here) so that no escape
 * sequence, control character or bidi override reaches the terminal.
 * @module
 */
import type {
  ChatEvent,
  HistoryEvent,
  MessageEvent,
  PresenceEvent,
} from "./events.ts";
import { roomsLines, whoisLines, whoLines } from "./render_answers.ts";
import { plural, roomLabel, sanitizeForTerminal } from "./terminal_text.ts";

export { plural, roomLabel, sanitizeForTerminal };

/** How to render. */
export interface RenderOptions {
  color: boolean;
  currentRoom: string;
  /** Lowercased own user name. */
  me: string;
  /** The time of join, leave and presence lines (ms); default Date.now(). */
  now?: number;
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

/**
 * One event as one or more terminal lines (no trailing newline); an empty
 * string means there is nothing to print (`clear`, an empty history block).
 * Stateless: EventRenderer adds the date lines.
 */
export function renderEvent(event: ChatEvent, options: RenderOptions): string {
  const c = options.color;
  const now = options.now ?? Date.now();
  switch (event.type) {
    case "message":
      return renderMessage(event, options);
    case "history":
      return renderHistory(event, options);
    case "join":
    case "leave": {
      const arrow = event.type === "join" ? "→" : "←";
      const verb = event.type === "join" ? "joined" : "left";
      return paint(
        c,
        "2",
        `${clock(now)} ${arrow} ${sanitizeForTerminal(event.user)} ${verb} ${
          roomLabel(event.room, options.me)
        }`,
      );
    }
    case "presence":
      return paint(c, "2", `${clock(now)} ${presenceText(event, options)}`);
    case "ready":
      return paint(
        c,
        "2",
        `logged in as ${sanitizeForTerminal(event.user)} (fingerprint ${
          sanitizeForTerminal(event.fingerprint)
        }) on ${sanitizeForTerminal(event.server)} in ${
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
    case "rooms":
      return systemLines(roomsLines(event, options.me));
    case "who":
      return systemLines(whoLines(event, options.me));
    case "whois":
      return systemLines(whoisLines(event));
    case "clear":
      return "";
  }
}

function systemLines(lines: string[]): string {
  return lines.map((line) => `* ${line}`).join("\n");
}

function renderMessage(event: MessageEvent, options: RenderOptions): string {
  const c = options.color;
  const name = sanitizeForTerminal(event.from);
  const text = sanitizeForTerminal(event.text);
  // after the name's colour is reset, a history line must turn dim again
  const who = paint(c, nameColor(name), name) +
    (c && event.history ? "\x1b[2m" : "");
  const where = event.room === options.currentRoom
    ? ""
    : `[${roomLabel(event.room, options.me)}] `;
  const line = event.kind === "me"
    ? `${where}* ${who} ${text}`
    : event.kind === "topic"
    ? `${who} set the topic of ${roomLabel(event.room, options.me)}: ${text}`
    : `${where}<${who}> ${text}`;
  const out = `${clock(event.ts)} ${line}`;
  return event.history ? paint(c, "2", out) : out;
}

/** The header before a block of history (or what stands for it). */
function renderHistory(event: HistoryEvent, options: RenderOptions): string {
  const label = roomLabel(event.room, options.me);
  const lines: string[] = [];
  if (event.unreadable > 0) {
    lines.push(
      `— ${plural(event.unreadable, "earlier message")} in ${label} ${
        event.unreadable === 1 ? "was" : "were"
      } sent before you joined —`,
    );
  }
  if (event.count > 0) lines.push(`— earlier in ${label} —`);
  else if (event.unreadable === 0 && event.reason === "load") {
    lines.push(`— no earlier messages in ${label} —`);
  }
  return lines.map((line) => paint(options.color, "2", line)).join("\n");
}

/**
 * `bob is offline`, naming the rooms you share only when the current room is
 * not one of them (a DM room goes without saying).
 */
function presenceText(event: PresenceEvent, options: RenderOptions): string {
  const state = `${sanitizeForTerminal(event.user)} is ${
    event.online ? "online" : "offline"
  }`;
  const rooms = event.rooms.length > 0 ? event.rooms : [event.room];
  if (rooms.includes(options.currentRoom)) return state;
  const shared = rooms.filter((room) => !room.startsWith("dm:"));
  if (shared.length === 0) return state;
  return `${state} (${
    shared.map((room) => roomLabel(room, options.me)).join(", ")
  })`;
}

const WEEKDAYS = [
  "Sunday",
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** The local calendar day of `ts`, as a comparable key. */
function dayOf(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** `— Tuesday 2 January 2024 —` (local time). */
export function dateLine(ts: number): string {
  const d = new Date(ts);
  return `— ${WEEKDAYS[d.getDay()]} ${d.getDate()} ${
    MONTHS[d.getMonth()]
  } ${d.getFullYear()} —`;
}

/** How an EventRenderer renders. */
export interface EventRendererOptions {
  color: boolean;
  /** Own user name (any case). */
  me: string;
  /** The clock (ms); default Date.now. */
  now?: () => number;
}

/**
 * Renders a stream of events for one screen or pipe: like renderEvent, plus
 * a date line before a timed line (message, join, leave, presence) whose
 * day differs from the last one shown. Times stay `HH:MM`: until a date line
 * says otherwise, the day shown is today.
 * @example
 * ```ts
 * import { EventRenderer } from "./render.ts";
 * const renderer = new EventRenderer({ color: false, me: "alice" });
 * const text = renderer.render({ type: "clear" }, "general");
 * console.assert(text === ""); // nothing to print
 * ```
 */
export class EventRenderer {
  #color: boolean;
  #me: string;
  #now: () => number;
  /** The day the reader takes the last timed line to be on; null: today. */
  #shownDay: string | null = null;

  /** A renderer that has shown nothing yet. */
  constructor(options: EventRendererOptions) {
    this.#color = options.color;
    this.#me = options.me.toLowerCase();
    this.#now = options.now ?? Date.now;
  }

  /**
   * `event` as terminal lines (no trailing newline), with a date line first
   * when its day changed; "" means print nothing.
   */
  render(event: ChatEvent, currentRoom: string): string {
    const now = this.#now();
    const text = renderEvent(event, {
      color: this.#color,
      currentRoom,
      me: this.#me,
      now,
    });
    const ts = event.type === "message"
      ? event.ts
      : ["join", "leave", "presence"].includes(event.type)
      ? now
      : undefined;
    if (ts === undefined || text === "") return text;
    const shown = this.#shownDay ?? dayOf(now);
    this.#shownDay = dayOf(ts);
    if (this.#shownDay === shown) return text;
    return `${paint(this.#color, "2", dateLine(ts))}\n${text}`;
  }
}
