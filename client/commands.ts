/**
 * Parsing what the user types: plain text, `/commands`, or `exit`.
 * Pure: no I/O, table-tested.
 * @module
 */
import { parseDuration } from "../shared/duration.ts";
import type { ModFrame } from "../shared/protocol.ts";
import {
  normalizeRoomName,
  roomNameProblem,
  usernameProblem,
} from "../shared/names.ts";

/** A parsed command. */
export type Command =
  | { name: "help" }
  | { name: "who" }
  | { name: "rooms" }
  | { name: "quit" }
  | { name: "join"; room: string }
  | { name: "leave"; room: string | null }
  | { name: "msg"; user: string; text: string }
  | { name: "me"; text: string }
  | { name: "whois"; user: string }
  | { name: "verify"; user: string; safetyNumber: string }
  | { name: "load"; count: number }
  | { name: "mod"; frame: ModFrame }
  | { name: "ignore"; user: string | null }
  | { name: "unignore"; user: string }
  | { name: "save"; path: string | null; format: "text" | "jsonl" };

/** What one input line means. */
export type ParsedInput =
  | { kind: "empty" }
  | { kind: "text"; text: string }
  | { kind: "command"; command: Command }
  | { kind: "invalid"; message: string };

/** One line per command, for /help. */
export const COMMAND_HELP = [
  "/help                      this list",
  "/who                       who is in this room, with short fingerprints",
  "/join #room                join (or switch to) a room",
  "/leave [#room]             leave this room (or the one named)",
  "/rooms                     list rooms",
  "/msg USER text             private end-to-end message",
  "/me action                 say what you are doing",
  "/whois USER                fingerprint, safety number, verified or not",
  "/verify USER NUMBER        mark USER verified after comparing safety numbers",
  "/load [N]                  show up to N (default 50, max 500) earlier messages",
  "/ignore [USER]             hide USER's messages (no USER: list); /unignore USER",
  "/motd                      show the message of the day",
  "operators: /kick USER [reason]  /ban USER [duration] [reason]  /unban USER",
  "           /mute USER [duration]  /unmute USER  /motd TEXT  /allow FINGERPRINT",
  "           (durations like 10m, 2h, 7d; none means until lifted)",
  "/save [--format jsonl] [PATH]  write this room's decrypted transcript to a new file",
  "/quit  (or: exit)          leave the chat",
  "//text                     send text starting with /",
].join("\n");

function user(name: string | undefined, usage: string): string | ParsedInput {
  if (!name) return { kind: "invalid", message: `usage: ${usage}` };
  const problem = usernameProblem(name.replace(/^@/, ""));
  if (problem) return { kind: "invalid", message: `"${name}": ${problem}` };
  return name.replace(/^@/, "");
}

function room(name: string): string | ParsedInput {
  const problem = roomNameProblem(name);
  if (problem) return { kind: "invalid", message: `"${name}": ${problem}` };
  return normalizeRoomName(name);
}

const MOD_USAGE: Record<string, string> = {
  kick: "/kick USER [reason]",
  ban: "/ban USER [duration] [reason]",
  mute: "/mute USER [duration] [reason]",
  unban: "/unban USER",
  unmute: "/unmute USER",
};

/** /kick, /ban, /mute, /unban, /unmute with an optional duration and reason. */
function moderation(action: string, args: string[]): ParsedInput {
  const usage = MOD_USAGE[action]!;
  const target = user(args[0], usage);
  if (typeof target !== "string") return target;
  const rest = args.slice(1);
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
        message: `${(error as Error).message} (usage: ${usage})`,
      };
    }
  }
  if (action === "unban" || action === "unmute") {
    if (rest.length > 0) return { kind: "invalid", message: `usage: ${usage}` };
  } else if (rest.length > 0) {
    frame.reason = rest.join(" ");
  }
  return { kind: "command", command: { name: "mod", frame } };
}

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
  if (trimmed === "exit") return { kind: "command", command: { name: "quit" } };
  if (trimmed.startsWith("//")) return { kind: "text", text: trimmed.slice(1) };
  if (!trimmed.startsWith("/")) return { kind: "text", text: trimmed };
  const [head = "", ...rest] = trimmed.slice(1).split(/\s+/);
  const name = head.toLowerCase();
  const restText = trimmed.slice(1 + head.length).trim();
  const command = (c: Command): ParsedInput => ({
    kind: "command",
    command: c,
  });
  switch (name) {
    case "help":
    case "who":
    case "rooms":
    case "quit":
      return command({ name });
    case "join": {
      if (rest.length !== 1) {
        return { kind: "invalid", message: "usage: /join #room" };
      }
      const r = room(rest[0]!);
      return typeof r === "string" ? command({ name: "join", room: r }) : r;
    }
    case "leave": {
      if (rest.length > 1) {
        return { kind: "invalid", message: "usage: /leave [#room]" };
      }
      if (rest.length === 0) return command({ name: "leave", room: null });
      const r = room(rest[0]!);
      return typeof r === "string" ? command({ name: "leave", room: r }) : r;
    }
    case "msg": {
      const u = user(rest[0], "/msg USER text");
      if (typeof u !== "string") return u;
      const text = restText.slice(rest[0]!.length).trim();
      if (!text) return { kind: "invalid", message: "usage: /msg USER text" };
      return command({ name: "msg", user: u, text });
    }
    case "me":
      if (!restText) return { kind: "invalid", message: "usage: /me action" };
      return command({ name: "me", text: restText });
    case "whois": {
      if (rest.length !== 1) {
        return { kind: "invalid", message: "usage: /whois USER" };
      }
      const u = user(rest[0], "/whois USER");
      return typeof u === "string" ? command({ name: "whois", user: u }) : u;
    }
    case "verify": {
      const u = user(rest[0], "/verify USER SAFETY-NUMBER");
      if (typeof u !== "string") return u;
      const digits = rest.slice(1).join("");
      if (!/^\d{60}$/.test(digits)) {
        return {
          kind: "invalid",
          message:
            "usage: /verify USER SAFETY-NUMBER (the 60 digits /whois shows)",
        };
      }
      return command({ name: "verify", user: u, safetyNumber: digits });
    }
    case "load": {
      if (rest.length > 1 || (rest.length === 1 && !/^\d+$/.test(rest[0]!))) {
        return {
          kind: "invalid",
          message: "usage: /load [N] (N from 1 to 500)",
        };
      }
      const count = rest.length === 0 ? 50 : Number(rest[0]);
      if (count < 1 || count > 500) {
        return {
          kind: "invalid",
          message: "usage: /load [N] (N from 1 to 500)",
        };
      }
      return command({ name: "load", count });
    }
    case "save": {
      let format: "text" | "jsonl" = "text";
      const args = [...rest];
      if (args[0] === "--format") {
        const value = args[1];
        if (value !== "text" && value !== "jsonl") {
          return {
            kind: "invalid",
            message: "usage: /save [--format text|jsonl] [PATH]",
          };
        }
        format = value;
        args.splice(0, 2);
      }
      if (args.length > 1) {
        return {
          kind: "invalid",
          message:
            "usage: /save [--format text|jsonl] [PATH] (one path, no spaces)",
        };
      }
      return command({ name: "save", path: args[0] ?? null, format });
    }
    case "kick":
    case "ban":
    case "mute":
    case "unban":
    case "unmute":
      return moderation(name, rest);
    case "motd":
      return command({
        name: "mod",
        frame: {
          t: "mod",
          action: "motd",
          ...(restText ? { text: restText } : {}),
        },
      });
    case "allow": {
      const fp = rest.join("");
      if (
        !/^[0-9a-fA-F:]{64,95}$/.test(fp) || fp.replace(/:/g, "").length !== 64
      ) {
        return {
          kind: "invalid",
          message: "usage: /allow FINGERPRINT (the 64 hex digits of `chat id`)",
        };
      }
      return command({
        name: "mod",
        frame: { t: "mod", action: "allow", fingerprint: fp },
      });
    }
    case "ignore": {
      if (rest.length === 0) return command({ name: "ignore", user: null });
      const u = user(rest[0], "/ignore USER");
      return typeof u === "string" ? command({ name: "ignore", user: u }) : u;
    }
    case "unignore": {
      const u = user(rest[0], "/unignore USER");
      return typeof u === "string" ? command({ name: "unignore", user: u }) : u;
    }
    default:
      return {
        kind: "invalid",
        message: `unknown command /${head}; type /help for the list`,
      };
  }
}
