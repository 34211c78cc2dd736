/**
 * Parsing what the user types: plain text, `/commands`, or `exit`.
 * Pure: no I/O, table-tested. One small parser per command name.
 * @module
 */
import { parseDuration } from "../shared/duration.ts";
import { normalizeFingerprint } from "../shared/fingerprint.ts";
import type { ModFrame } from "../shared/protocol.ts";
import {
  normalizeRoomName,
  roomNameProblem,
  usernameProblem,
} from "../shared/names.ts";

/** A parsed command. Aliases (/part, /names, /list) parse to the command they stand for. */
export type Command =
  | { name: "help" }
  | { name: "who" }
  | { name: "rooms" }
  | { name: "quit" }
  | { name: "clear" }
  | { name: "join"; room: string }
  | { name: "leave"; room: string | null }
  | { name: "msg"; user: string; text: string }
  | { name: "query"; user: string; text: string | null }
  | { name: "me"; text: string }
  | { name: "topic"; text: string | null }
  | { name: "whois"; user: string }
  | { name: "verify"; user: string; safetyNumber: string }
  | { name: "load"; count: number }
  | { name: "mod"; frame: ModFrame }
  | { name: "ignore"; user: string | null }
  | { name: "unignore"; user: string }
  | { name: "allowDm"; user: string; allow: boolean }
  | { name: "save"; path: string | null; format: "text" | "jsonl" };

/** What one input line means. */
export type ParsedInput =
  | { kind: "empty" }
  | { kind: "text"; text: string }
  | { kind: "command"; command: Command }
  | { kind: "invalid"; message: string };

/** A command's arguments: the words after it, and the text after it as typed. */
interface Args {
  /** The command name as typed, lowercased (for usage lines of aliases). */
  name: string;
  words: string[];
  text: string;
}

type ArgParser = (args: Args) => ParsedInput;

const ok = (command: Command): ParsedInput => ({ kind: "command", command });
const usage = (line: string): ParsedInput => ({
  kind: "invalid",
  message: `usage: ${line}`,
});

function user(name: string | undefined, line: string): string | ParsedInput {
  if (!name) return usage(line);
  const problem = usernameProblem(name.replace(/^@/, ""));
  if (problem) return { kind: "invalid", message: `"${name}": ${problem}` };
  return name.replace(/^@/, "");
}

function room(name: string): string | ParsedInput {
  const problem = roomNameProblem(name);
  if (problem) return { kind: "invalid", message: `"${name}": ${problem}` };
  return normalizeRoomName(name);
}

/** The text after the first word of `args.text` (a user name), trimmed. */
function afterFirstWord(args: Args): string {
  return args.text.slice(args.words[0]!.length).trim();
}

const MOD_USAGE: Record<string, string> = {
  kick: "/kick USER [reason]",
  ban: "/ban USER [duration] [reason]",
  mute: "/mute USER [duration] [reason]",
  unban: "/unban USER",
  unmute: "/unmute USER",
};

/** /kick, /ban, /mute, /unban, /unmute with an optional duration and reason. */
function moderation({ name: action, words }: Args): ParsedInput {
  const line = MOD_USAGE[action]!;
  const target = user(words[0], line);
  if (typeof target !== "string") return target;
  const rest = words.slice(1);
  const frame: ModFrame = {
    t: "mod",
    action: action as ModFrame["action"],
    user: target,
  };
  if (
    (action === "ban" || action === "mute") && rest[0] && /^\d/.test(rest[0])
  ) {
    try {
      frame.durationMs = parseDuration(rest.shift()!);
    } catch (error) {
      return {
        kind: "invalid",
        message: `${(error as Error).message} (usage: ${line})`,
      };
    }
  }
  if (action === "unban" || action === "unmute") {
    if (rest.length > 0) return usage(line);
  } else if (rest.length > 0) {
    frame.reason = rest.join(" ");
  }
  return ok({ name: "mod", frame });
}

function parseJoin({ words }: Args): ParsedInput {
  if (words.length !== 1) return usage("/join #room");
  const r = room(words[0]!);
  return typeof r === "string" ? ok({ name: "join", room: r }) : r;
}

function parseLeave({ name, words }: Args): ParsedInput {
  if (words.length > 1) return usage(`/${name} [#room]`);
  if (words.length === 0) return ok({ name: "leave", room: null });
  const r = room(words[0]!);
  return typeof r === "string" ? ok({ name: "leave", room: r }) : r;
}

function parseMsg(args: Args): ParsedInput {
  const u = user(args.words[0], "/msg USER text");
  if (typeof u !== "string") return u;
  const text = afterFirstWord(args);
  if (!text) return usage("/msg USER text");
  return ok({ name: "msg", user: u, text });
}

function parseQuery(args: Args): ParsedInput {
  const u = user(args.words[0], "/query USER [text]");
  if (typeof u !== "string") return u;
  return ok({ name: "query", user: u, text: afterFirstWord(args) || null });
}

function parseWhois({ words }: Args): ParsedInput {
  if (words.length !== 1) return usage("/whois USER");
  const u = user(words[0], "/whois USER");
  return typeof u === "string" ? ok({ name: "whois", user: u }) : u;
}

function parseVerify({ words }: Args): ParsedInput {
  const u = user(words[0], "/verify USER SAFETY-NUMBER");
  if (typeof u !== "string") return u;
  const digits = words.slice(1).join("");
  if (!/^\d{60}$/.test(digits)) {
    return usage("/verify USER SAFETY-NUMBER (the 60 digits /whois shows)");
  }
  return ok({ name: "verify", user: u, safetyNumber: digits });
}

function parseLoad({ words }: Args): ParsedInput {
  const line = "/load [N] (N from 1 to 500)";
  if (words.length > 1 || (words.length === 1 && !/^\d+$/.test(words[0]!))) {
    return usage(line);
  }
  const count = words.length === 0 ? 50 : Number(words[0]);
  if (count < 1 || count > 500) return usage(line);
  return ok({ name: "load", count });
}

function parseSave({ words }: Args): ParsedInput {
  let format: "text" | "jsonl" = "text";
  const rest = [...words];
  if (rest[0] === "--format") {
    const value = rest[1];
    if (value !== "text" && value !== "jsonl") {
      return usage("/save [--format text|jsonl] [PATH]");
    }
    format = value;
    rest.splice(0, 2);
  }
  if (rest.length > 1) {
    return usage(
      "/save [--format text|jsonl] [PATH] (one path, no spaces)",
    );
  }
  return ok({ name: "save", path: rest[0] ?? null, format });
}

function parseAllow({ words }: Args): ParsedInput {
  const fingerprint = normalizeFingerprint(words.join(""));
  if (fingerprint === null) {
    return usage("/allow FINGERPRINT (the 64 hex digits of `chat id`)");
  }
  return ok({ name: "mod", frame: { t: "mod", action: "allow", fingerprint } });
}

function parseIgnore({ name, words }: Args): ParsedInput {
  if (name === "ignore" && words.length === 0) {
    return ok({ name: "ignore", user: null });
  }
  const u = user(words[0], `/${name} USER`);
  if (typeof u !== "string") return u;
  return ok(
    name === "ignore" ? { name, user: u } : { name: "unignore", user: u },
  );
}

/** /allow-dm USER, /deny-dm USER: who may open a DM with you without a shared room. */
function parseAllowDm({ name, words }: Args): ParsedInput {
  if (words.length !== 1) return usage(`/${name} USER`);
  const u = user(words[0], `/${name} USER`);
  if (typeof u !== "string") return u;
  return ok({ name: "allowDm", user: u, allow: name === "allow-dm" });
}

/** A parser for a command that takes no arguments (any given are ignored). */
const bare = (command: Command): ArgParser => () => ok(command);

/** Every `/command` the parser knows, aliases included. */
const PARSERS: Record<string, ArgParser> = {
  help: bare({ name: "help" }),
  who: bare({ name: "who" }),
  names: bare({ name: "who" }),
  rooms: bare({ name: "rooms" }),
  list: bare({ name: "rooms" }),
  quit: bare({ name: "quit" }),
  clear: bare({ name: "clear" }),
  join: parseJoin,
  leave: parseLeave,
  part: parseLeave,
  msg: parseMsg,
  query: parseQuery,
  me: ({ text }) => text ? ok({ name: "me", text }) : usage("/me action"),
  topic: ({ text }) => ok({ name: "topic", text: text || null }),
  whois: parseWhois,
  verify: parseVerify,
  load: parseLoad,
  save: parseSave,
  kick: moderation,
  ban: moderation,
  mute: moderation,
  unban: moderation,
  unmute: moderation,
  motd: ({ text }) =>
    ok({
      name: "mod",
      frame: { t: "mod", action: "motd", ...(text ? { text } : {}) },
    }),
  allow: parseAllow,
  ignore: parseIgnore,
  unignore: parseIgnore,
  "allow-dm": parseAllowDm,
  "deny-dm": parseAllowDm,
};

/** The name of every `/command` parseInput accepts, aliases included. */
export const COMMAND_NAMES: readonly string[] = Object.keys(PARSERS);

/**
 * /help, grouped: [group title, [usage, what it does][]][]. Each `/name`
 * here parses, and each of COMMAND_NAMES is here (commands_test.ts).
 */
export const HELP_GROUPS: readonly (readonly [string, [string, string][]])[] = [
  ["messages", [
    ["TEXT", "send to the current room (//TEXT: starts with /)"],
    ["/me ACTION", "say what you are doing"],
    ["/msg USER TEXT", "private message; you stay in this room"],
    ["/query USER [TEXT]", "go to your private room with USER (and send TEXT)"],
    ["/topic [TEXT]", "show or set this room's topic (encrypted, signed)"],
  ]],
  ["rooms", [
    ["/join #ROOM", "join (or switch to) a room"],
    ["/leave [#ROOM]", "leave this room (or the one named); also /part"],
    ["/rooms", "rooms with members, joined, current; also /list"],
  ]],
  ["people and trust", [
    ["/who", "this room's members and their trust; also /names"],
    ["/whois USER", "fingerprint, safety number, verified or not"],
    [
      "/verify USER NUMBER",
      "mark USER verified after comparing safety numbers",
    ],
    ["/ignore [USER]", "hide USER's messages (no USER: list them)"],
    ["/unignore USER", "show USER's messages again"],
    ["/allow-dm USER", "let USER open a DM with you though you share no room"],
    ["/deny-dm USER", "take that back (roommates can still DM you)"],
  ]],
  ["history", [
    ["/load [N]", "show N earlier messages (default 50, max 500)"],
    [
      "/save [--format jsonl] [PATH]",
      "write this room's transcript to a new file",
    ],
  ]],
  ["operators", [
    ["/motd [TEXT]", "show the message of the day (operators: set it)"],
    ["/kick USER [REASON]", "disconnect USER (they may log in again)"],
    [
      "/ban USER [DURATION] [REASON]",
      "keep USER out (for 10m, 2h, 7d; or for good)",
    ],
    ["/unban USER", "lift a ban"],
    [
      "/mute USER [DURATION] [REASON]",
      "refuse USER's messages (same durations)",
    ],
    ["/unmute USER", "lift a mute"],
    ["/allow FINGERPRINT", "let a key log in to an invite-only server"],
  ]],
  ["other", [
    ["/clear", "clear the screen"],
    ["/help", "this list"],
    ["/quit", "leave the chat; also: exit"],
  ]],
];

const USAGE_WIDTH = 22;

/** The /help text: one line per command, grouped. */
export const COMMAND_HELP: string = HELP_GROUPS.map(([title, lines]) =>
  [
    `${title}:`,
    ...lines.map(([use, what]) =>
      `  ${use.padEnd(USAGE_WIDTH)}${
        use.length >= USAGE_WIDTH ? " " : ""
      }${what}`
    ),
  ].join("\n")
).join("\n");

/**
 * Parse one input line.
 * @example
 * ```ts
 * import { parseInput } from "./commands.ts";
 * const parsed = parseInput("/msg bob hi there");
 * console.assert(parsed.kind === "command" && parsed.command.name === "msg");
 * ```
 */
export function parseInput(line: string): ParsedInput {
  const trimmed = line.trim();
  if (trimmed === "") return { kind: "empty" };
  if (trimmed === "exit") return ok({ name: "quit" });
  if (trimmed.startsWith("//")) return { kind: "text", text: trimmed.slice(1) };
  if (!trimmed.startsWith("/")) return { kind: "text", text: trimmed };
  const [head = "", ...words] = trimmed.slice(1).split(/\s+/);
  const name = head.toLowerCase();
  const parser = Object.hasOwn(PARSERS, name) ? PARSERS[name] : undefined;
  if (!parser) {
    return {
      kind: "invalid",
      message: `unknown command /${head}; type /help for the list`,
    };
  }
  return parser({ name, words, text: trimmed.slice(1 + head.length).trim() });
}
