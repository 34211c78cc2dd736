import {
  COMMAND_HELP,
  COMMAND_NAMES,
  HELP_GROUPS,
  type ParsedInput,
  parseInput,
} from "./commands.ts";
import { roomNameProblem, usernameProblem } from "../shared/names.ts";
import fc from "fast-check";
import { assert, assertEquals } from "../shared/_test_assert.ts";

const SIXTY = "123456789012345678901234567890123456789012345678901234567890";
const GROUPED = SIXTY.match(/.{5}/g)!.join(" ");

const ROOM_PROBLEM = roomNameProblem("bad!room")!;
const USER_PROBLEM = usernameProblem("bad!name")!;

const invalid = (message: string): ParsedInput => ({
  kind: "invalid",
  message,
});
const command = (c: object): ParsedInput =>
  ({ kind: "command", command: c }) as ParsedInput;

const USAGE = {
  join: "usage: /join #room",
  leave: "usage: /leave [#room]",
  msg: "usage: /msg USER text",
  me: "usage: /me action",
  whois: "usage: /whois USER",
  verify: "usage: /verify USER SAFETY-NUMBER (the 60 digits /whois shows)",
  verifyNoUser: "usage: /verify USER SAFETY-NUMBER",
  load: "usage: /load [N] (N from 1 to 500)",
  saveFormat: "usage: /save [--format text|jsonl] [PATH]",
  savePaths: "usage: /save [--format text|jsonl] [PATH] (one path, no spaces)",
};

/** [what the case shows, the line typed, what it must parse to] */
const CASES: [string, string, ParsedInput][] = [
  // plain input
  ["plain text is text", "hello there", { kind: "text", text: "hello there" }],
  ["text keeps its inner spaces but not the outer ones", "  a  b  ", {
    kind: "text",
    text: "a  b",
  }],
  ["an empty line is empty", "", { kind: "empty" }],
  ["a line of spaces is empty", "   ", { kind: "empty" }],
  ["exit quits", "exit", command({ name: "quit" })],
  ["exit with spaces around quits", "  exit ", command({ name: "quit" })],
  ["exit followed by more words is text", "exit now", {
    kind: "text",
    text: "exit now",
  }],
  ["a double slash sends text starting with one slash", "//slash text", {
    kind: "text",
    text: "/slash text",
  }],
  // commands without arguments
  ["/help asks for the command list", "/help", command({ name: "help" })],
  ["/who asks who is here", "/who", command({ name: "who" })],
  ["/rooms asks for the room list", "/rooms", command({ name: "rooms" })],
  ["/quit quits", "/quit", command({ name: "quit" })],
  ["command names are case-insensitive", "/HELP", command({ name: "help" })],
  ["mixed-case command names work", "/Who", command({ name: "who" })],
  // /join
  [
    "/join strips # from the room",
    "/join #room",
    command({
      name: "join",
      room: "room",
    }),
  ],
  [
    "/join lowercases the room",
    "/join Room",
    command({
      name: "join",
      room: "room",
    }),
  ],
  [
    "/join lowercases and strips # together",
    "/JOIN #General",
    command({
      name: "join",
      room: "general",
    }),
  ],
  ["/join without a room is a usage error", "/join", invalid(USAGE.join)],
  ["/join with two rooms is a usage error", "/join #a #b", invalid(USAGE.join)],
  [
    "/join with a bad room name says why",
    "/join bad!room",
    invalid(
      `"bad!room": ${ROOM_PROBLEM}`,
    ),
  ],
  [
    "/join # alone is a bad room name",
    "/join #",
    invalid(
      `"#": ${roomNameProblem("#")}`,
    ),
  ],
  // /leave
  [
    "/leave alone leaves the current room",
    "/leave",
    command({
      name: "leave",
      room: null,
    }),
  ],
  [
    "/leave #x leaves the named room",
    "/leave #x",
    command({
      name: "leave",
      room: "x",
    }),
  ],
  [
    "/leave normalises the room name",
    "/leave #X",
    command({
      name: "leave",
      room: "x",
    }),
  ],
  [
    "/leave with two rooms is a usage error",
    "/leave #a #b",
    invalid(
      USAGE.leave,
    ),
  ],
  [
    "/leave with a bad room name says why",
    "/leave bad!room",
    invalid(
      `"bad!room": ${ROOM_PROBLEM}`,
    ),
  ],
  // /msg
  [
    "/msg sends text to a user",
    "/msg bob hi there",
    command({
      name: "msg",
      user: "bob",
      text: "hi there",
    }),
  ],
  [
    "/msg keeps the inner spaces of the text",
    "/msg bob  hi   there ",
    command(
      { name: "msg", user: "bob", text: "hi   there" },
    ),
  ],
  [
    "/msg accepts @user",
    "/msg @bob hi",
    command({
      name: "msg",
      user: "bob",
      text: "hi",
    }),
  ],
  ["/msg without text is a usage error", "/msg bob", invalid(USAGE.msg)],
  ["/msg without anything is a usage error", "/msg", invalid(USAGE.msg)],
  [
    "/msg to a bad user name says why",
    "/msg bad!name x",
    invalid(
      `"bad!name": ${USER_PROBLEM}`,
    ),
  ],
  // /me
  ["/me says what you do", "/me waves", command({ name: "me", text: "waves" })],
  [
    "/me keeps inner spaces",
    "/me waves  twice",
    command({
      name: "me",
      text: "waves  twice",
    }),
  ],
  ["/me alone is a usage error", "/me", invalid(USAGE.me)],
  ["/me with only spaces is a usage error", "/me    ", invalid(USAGE.me)],
  // /whois
  [
    "/whois names a user",
    "/whois bob",
    command({ name: "whois", user: "bob" }),
  ],
  [
    "/whois accepts @user",
    "/whois @bob",
    command({
      name: "whois",
      user: "bob",
    }),
  ],
  ["/whois alone is a usage error", "/whois", invalid(USAGE.whois)],
  [
    "/whois with two users is a usage error",
    "/whois a b",
    invalid(
      USAGE.whois,
    ),
  ],
  [
    "/whois with a bad user name says why",
    "/whois bad!name",
    invalid(
      `"bad!name": ${USER_PROBLEM}`,
    ),
  ],
  // /verify
  [
    "/verify accepts 60 digits in groups",
    `/verify bob ${GROUPED}`,
    command({
      name: "verify",
      user: "bob",
      safetyNumber: SIXTY,
    }),
  ],
  [
    "/verify accepts 60 contiguous digits",
    `/verify bob ${SIXTY}`,
    command({
      name: "verify",
      user: "bob",
      safetyNumber: SIXTY,
    }),
  ],
  [
    "/verify refuses 59 digits",
    `/verify bob ${SIXTY.slice(1)}`,
    invalid(
      USAGE.verify,
    ),
  ],
  [
    "/verify refuses 61 digits",
    `/verify bob ${SIXTY}1`,
    invalid(
      USAGE.verify,
    ),
  ],
  [
    "/verify refuses letters among the digits",
    `/verify bob ${SIXTY.slice(1)}x`,
    invalid(USAGE.verify),
  ],
  [
    "/verify without a number is a usage error",
    "/verify bob",
    invalid(
      USAGE.verify,
    ),
  ],
  ["/verify alone is a usage error", "/verify", invalid(USAGE.verifyNoUser)],
  [
    "/verify with a bad user name says why",
    `/verify bad!name ${SIXTY}`,
    invalid(
      `"bad!name": ${USER_PROBLEM}`,
    ),
  ],
  // moderation
  [
    "/kick with a reason keeps the reason's spaces",
    "/kick bob too  loud",
    command({
      name: "mod",
      frame: { t: "mod", action: "kick", user: "bob", reason: "too loud" },
    }),
  ],
  [
    "/kick alone is a usage error",
    "/kick",
    invalid("usage: /kick USER [reason]"),
  ],
  [
    "/ban with a duration and a reason",
    "/ban bob 2h flooding the room",
    command({
      name: "mod",
      frame: {
        t: "mod",
        action: "ban",
        user: "bob",
        durationMs: 7_200_000,
        reason: "flooding the room",
      },
    }),
  ],
  [
    "/ban without a duration is until lifted",
    "/ban bob",
    command({ name: "mod", frame: { t: "mod", action: "ban", user: "bob" } }),
  ],
  [
    "/ban with a bad duration explains durations",
    "/ban bob 5y",
    invalid(
      '"5y" is not a duration; use a number and a unit: 500ms, 30s, 5m, 2h or 7d (usage: /ban USER [duration] [reason])',
    ),
  ],
  [
    "/mute with a duration",
    "/mute @bob 10m",
    command({
      name: "mod",
      frame: { t: "mod", action: "mute", user: "bob", durationMs: 600_000 },
    }),
  ],
  [
    "/unban USER",
    "/unban bob",
    command({ name: "mod", frame: { t: "mod", action: "unban", user: "bob" } }),
  ],
  [
    "/unmute with extra words is a usage error",
    "/unmute bob now",
    invalid("usage: /unmute USER"),
  ],
  [
    "/motd alone shows it",
    "/motd",
    command({ name: "mod", frame: { t: "mod", action: "motd" } }),
  ],
  [
    "/motd TEXT sets it",
    "/motd be  kind",
    command({
      name: "mod",
      frame: { t: "mod", action: "motd", text: "be  kind" },
    }),
  ],
  [
    "/allow takes a fingerprint in groups",
    "/allow abab abab abab abab abab abab abab abab abab abab abab abab abab abab abab abab",
    command({
      name: "mod",
      frame: {
        t: "mod",
        action: "allow",
        fingerprint:
          "abababababababababababababababababababababababababababababababab",
      },
    }),
  ],
  [
    "/allow with too few digits is a usage error",
    "/allow abcd",
    invalid("usage: /allow FINGERPRINT (the 64 hex digits of `chat id`)"),
  ],
  ["/ignore alone lists", "/ignore", command({ name: "ignore", user: null })],
  ["/ignore USER", "/ignore carol", command({ name: "ignore", user: "carol" })],
  [
    "/unignore USER",
    "/unignore carol",
    command({ name: "unignore", user: "carol" }),
  ],
  // /load
  ["/load alone loads 50", "/load", command({ name: "load", count: 50 })],
  ["/load 10 loads 10", "/load 10", command({ name: "load", count: 10 })],
  ["/load 1 is the smallest", "/load 1", command({ name: "load", count: 1 })],
  [
    "/load 500 is the largest",
    "/load 500",
    command({
      name: "load",
      count: 500,
    }),
  ],
  ["/load 0 is out of range", "/load 0", invalid(USAGE.load)],
  ["/load 501 is out of range", "/load 501", invalid(USAGE.load)],
  ["/load x is not a number", "/load x", invalid(USAGE.load)],
  ["/load -5 is not a count", "/load -5", invalid(USAGE.load)],
  ["/load 2.5 is not a count", "/load 2.5", invalid(USAGE.load)],
  ["/load with two numbers is a usage error", "/load 1 2", invalid(USAGE.load)],
  // /save
  [
    "/save alone saves text to the default name",
    "/save",
    command({
      name: "save",
      path: null,
      format: "text",
    }),
  ],
  [
    "/save PATH saves text to PATH",
    "/save notes.txt",
    command({
      name: "save",
      path: "notes.txt",
      format: "text",
    }),
  ],
  [
    "/save --format jsonl saves JSON lines to the default name",
    "/save --format jsonl",
    command(
      { name: "save", path: null, format: "jsonl" },
    ),
  ],
  [
    "/save --format jsonl PATH saves JSON lines to PATH",
    "/save --format jsonl out.jsonl",
    command(
      { name: "save", path: "out.jsonl", format: "jsonl" },
    ),
  ],
  [
    "/save --format text PATH saves text to PATH",
    "/save --format text a.txt",
    command(
      { name: "save", path: "a.txt", format: "text" },
    ),
  ],
  [
    "/save --format xml is a usage error",
    "/save --format xml",
    invalid(
      USAGE.saveFormat,
    ),
  ],
  [
    "/save --format without a value is a usage error",
    "/save --format",
    invalid(
      USAGE.saveFormat,
    ),
  ],
  [
    "/save with two paths is a usage error",
    "/save a b",
    invalid(
      USAGE.savePaths,
    ),
  ],
  // IRC habits (issue 11, item 12)
  [
    "/part leaves the current room like /leave",
    "/part",
    command({
      name: "leave",
      room: null,
    }),
  ],
  [
    "/part #x leaves the named room",
    "/part #X",
    command({
      name: "leave",
      room: "x",
    }),
  ],
  [
    "/part with two rooms names /part in its usage",
    "/part a b",
    invalid(
      "usage: /part [#room]",
    ),
  ],
  ["/names lists who is here like /who", "/names", command({ name: "who" })],
  ["/list lists rooms like /rooms", "/LIST", command({ name: "rooms" })],
  ["/clear clears the screen", "/clear", command({ name: "clear" })],
  [
    "/query USER opens the DM without sending",
    "/query @Bob",
    command({
      name: "query",
      user: "Bob",
      text: null,
    }),
  ],
  [
    "/query USER TEXT opens the DM and sends TEXT",
    "/query bob  hi  there ",
    command({
      name: "query",
      user: "bob",
      text: "hi  there",
    }),
  ],
  [
    "/query alone is a usage error",
    "/query",
    invalid(
      "usage: /query USER [text]",
    ),
  ],
  [
    "/query with a bad name says why",
    "/query bad!name",
    invalid(
      `"bad!name": ${USER_PROBLEM}`,
    ),
  ],
  [
    "/topic alone shows the topic",
    "/topic",
    command({
      name: "topic",
      text: null,
    }),
  ],
  [
    "/topic TEXT sets it, inner spaces kept",
    "/topic  Release  Friday ",
    command({
      name: "topic",
      text: "Release  Friday",
    }),
  ],
  [
    "/allow-dm USER lets USER open a DM with you",
    "/allow-dm @carol",
    command({ name: "allowDm", user: "carol", allow: true }),
  ],
  [
    "/deny-dm USER takes it back",
    "/deny-dm carol",
    command({ name: "allowDm", user: "carol", allow: false }),
  ],
  [
    "/allow-dm alone is a usage error",
    "/allow-dm",
    invalid("usage: /allow-dm USER"),
  ],
  [
    "/unignore alone is a usage error",
    "/unignore",
    invalid(
      "usage: /unignore USER",
    ),
  ],
  [
    "a name of an Object property is an unknown command",
    "/constructor",
    invalid(
      "unknown command /constructor; type /help for the list",
    ),
  ],
  // unknown
  [
    "an unknown command points to /help",
    "/unknown",
    invalid(
      "unknown command /unknown; type /help for the list",
    ),
  ],
  [
    "an unknown command is quoted as typed",
    "/Nope x",
    invalid(
      "unknown command /Nope; type /help for the list",
    ),
  ],
];

for (const [what, line, expected] of CASES) {
  Deno.test(`parse input: ${what} (typed ${JSON.stringify(line)})`, () => {
    assertEquals(parseInput(line), expected);
  });
}

Deno.test("parse input: every table case has its own name", () => {
  const names = CASES.map(([what]) => what);
  assertEquals(new Set(names).size, names.length);
});

Deno.test("parse input: any line not starting with / or exit is sent as trimmed text", () => {
  fc.assert(
    fc.property(fc.string(), (line) => {
      const trimmed = line.trim();
      fc.pre(trimmed !== "" && !trimmed.startsWith("/") && trimmed !== "exit");
      assertEquals(parseInput(line), { kind: "text", text: trimmed });
    }),
  );
});

Deno.test("parse input: never throws, whatever is typed", () => {
  fc.assert(
    fc.property(
      fc.string().map((s) => "/" + s),
      (line) => {
        const kind = parseInput(line).kind;
        assert(kind === "command" || kind === "invalid" || kind === "text");
      },
    ),
  );
});

// ---- /help against the parser ------------------------------------------------

/** Every `/name` mentioned in the help text. */
function namesInHelp(): string[] {
  return [...COMMAND_HELP.matchAll(/(?<![/\w])\/([a-z][a-z-]*)\b/g)].map((m) =>
    m[1]!
  );
}

Deno.test("help: every /command it mentions is one the parser knows", () => {
  const mentioned = namesInHelp();
  assert(mentioned.length > 20, `only ${mentioned.length} found`);
  for (const name of mentioned) {
    const parsed = parseInput(`/${name}`);
    assert(
      parsed.kind === "command" ||
        (parsed.kind === "invalid" && parsed.message.startsWith("usage:")),
      `/help mentions /${name}, which parses to ${JSON.stringify(parsed)}`,
    );
  }
});

Deno.test("help: every command the parser knows is in it", () => {
  const mentioned = new Set(namesInHelp());
  for (const name of COMMAND_NAMES) {
    assert(mentioned.has(name), `/${name} is missing from /help`);
  }
});

Deno.test("help: one line per command, each command's usage starts its own line", () => {
  const lines = COMMAND_HELP.split("\n");
  for (const [, entries] of HELP_GROUPS) {
    for (const [usage] of entries) {
      assertEquals(
        lines.filter((l) => l.startsWith(`  ${usage} `)).length,
        1,
        usage,
      );
    }
  }
});

Deno.test("help: is grouped by what the commands are for", () => {
  assertEquals(HELP_GROUPS.map(([title]) => title), [
    "messages",
    "rooms",
    "people and trust",
    "history",
    "operators",
    "other",
  ]);
});

Deno.test("help: every line fits an 80-column terminal after the '* ' prefix", () => {
  for (const line of COMMAND_HELP.split("\n")) {
    assert(line.length <= 78, `${line.length}: ${line}`);
  }
});
