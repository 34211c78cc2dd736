/**
 * Carrying out what the user typed against a ChatClient. Shared by the
 * interactive terminal and the line/JSON mode. One small handler per
 * command; answers are events (structured where a bot needs the fields:
 * `who`, `whois`; `rooms` comes from the engine).
 * @module
 */
import {
  formatFingerprint,
  safetyNumber,
  safetyNumbersMatch,
  shortFingerprint,
} from "../shared/crypto/identity.ts";
import type { Identity } from "../shared/crypto/identity.ts";
import { userKey } from "../shared/names.ts";
import type { ChatClient, SendResult } from "./chat_client.ts";
import { type Command, COMMAND_HELP, parseInput } from "./commands.ts";
import type { EventSink, TrustLevel, WhoMember } from "./events.ts";
import type { TrustStore } from "./trust_store.ts";
import type { Person } from "./room_view.ts";
import { roomLabel } from "./terminal_text.ts";
import { SaveRefused, saveToFile } from "./safe_save.ts";
import {
  defaultTranscriptName,
  formatTranscript,
  localTimestamp,
} from "./transcript.ts";

/** The part of the chat engine the runner uses (a ChatClient, or a small stand-in in tests). */
export type CommandClient = Pick<
  ChatClient,
  | "send"
  | "sendDirect"
  | "openDirect"
  | "switchTo"
  | "join"
  | "leave"
  | "listRooms"
  | "moderate"
  | "topic"
  | "room"
  | "currentRoom"
  | "people"
  | "lookup"
  | "loadOlder"
  | "transcript"
  | "rekeyRoomsWith"
>;

/** What the runner needs. */
export interface CommandContext {
  client: CommandClient;
  identity: Identity;
  trust: TrustStore;
  emit: EventSink;
}

/**
 * What became of an input line: "quit" (the user asked to leave),
 * "retain" (text was not sent, e.g. over the size limit: the terminal puts
 * the line back into the input; line mode goes on), or "continue".
 */
export type InputOutcome = "quit" | "continue" | "retain";

type Handler<C extends Command> = (
  command: C,
  ctx: CommandContext,
) => InputOutcome | Promise<InputOutcome>;
type Handlers = {
  [N in Command["name"]]: Handler<Extract<Command, { name: N }>>;
};

/**
 * Handle one input line. Resolves once what it asked is done and, for a
 * question to the server (/rooms, /motd, /load, /join…), answered: a script
 * that ends its input right after gets the answer before it exits.
 */
export async function handleInput(
  line: string,
  ctx: CommandContext,
): Promise<InputOutcome> {
  const parsed = parseInput(line);
  switch (parsed.kind) {
    case "empty":
      return "continue";
    case "invalid":
      ctx.emit({ type: "error", message: parsed.message });
      return "continue";
    case "text":
      return sent(ctx.client.send(parsed.text));
    case "command": {
      const handler = HANDLERS[parsed.command.name] as Handler<Command>;
      return await handler(parsed.command, ctx);
    }
  }
}

function sent(result: SendResult): InputOutcome {
  return result === "refused" ? "retain" : "continue";
}

/** Wait for the server's answer (already reported as events), then go on. */
async function answered(question: Promise<unknown>): Promise<InputOutcome> {
  await question;
  return "continue";
}

function system(ctx: CommandContext, message: string): "continue" {
  ctx.emit({ type: "system", message });
  return "continue";
}

function error(ctx: CommandContext, message: string): "continue" {
  ctx.emit({ type: "error", message });
  return "continue";
}

function label(ctx: CommandContext, room: string): string {
  return roomLabel(room, userKey(ctx.identity.user));
}

/** How far this user trusts `user`'s key: verified, unverified, or changed since verified (blocked). */
export function trustLevel(trust: TrustStore, user: string): TrustLevel {
  const entry = trust.get(user);
  if (entry?.blocked) return "changed";
  return entry?.verified ? "verified" : "unverified";
}

const HANDLERS: Handlers = {
  help: (_, ctx) => system(ctx, COMMAND_HELP),
  quit: () => "quit",
  clear: (_, ctx) => {
    ctx.emit({ type: "clear" });
    return "continue";
  },
  who,
  whois,
  rooms: (_, ctx) => answered(ctx.client.listRooms()),
  join,
  leave: ({ room }, ctx) => {
    ctx.client.leave(room ?? ctx.client.currentRoom);
    return "continue";
  },
  msg: async ({ user, text }, ctx) =>
    sent(await ctx.client.sendDirect(user, text)),
  query,
  me: ({ text }, ctx) => sent(ctx.client.send(text, "me")),
  topic,
  verify,
  // the engine's history event heads the block (or says it is empty); a
  // refusal or a cut-off was reported as an error
  load: ({ count }, ctx) =>
    answered(ctx.client.loadOlder(ctx.client.currentRoom, count)),
  save,
  mod: ({ frame }, ctx) => answered(ctx.client.moderate(frame)),
  ignore,
  unignore: async ({ user }, ctx) => {
    await ctx.trust.setIgnored(user, false);
    return system(ctx, `no longer ignoring ${user}`);
  },
};

/** /who, /names: the current room's members as a `who` event. */
function who(_: unknown, ctx: CommandContext): InputOutcome {
  const name = ctx.client.currentRoom;
  const room = ctx.client.room(name);
  if (!room) return error(ctx, "you are not in a room; /join one");
  const me = userKey(ctx.identity.user);
  const members: WhoMember[] = [...room.members.values()]
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((m) => ({
      user: m.user,
      fingerprint: shortFingerprint(m.fingerprint),
      online: m.online,
      trust: trustLevel(ctx.trust, m.key),
      you: m.key === me,
    }));
  ctx.emit({ type: "who", room: name, members });
  return "continue";
}

/** /whois USER: fingerprint, safety number and trust as a `whois` event. */
async function whois(
  { user }: { user: string },
  ctx: CommandContext,
): Promise<InputOutcome> {
  const person = await findPerson(ctx, user);
  if (!person) return error(ctx, `no user named ${user}`);
  ctx.emit({
    type: "whois",
    user: person.user,
    fingerprint: formatFingerprint(person.fingerprint),
    safetyNumber: await safetyNumber(ctx.identity, person.identity),
    trust: trustLevel(ctx.trust, person.key),
    you: person.key === userKey(ctx.identity.user),
  });
  return "continue";
}

/** /join #room: switch to it if joined, else join it (and wait for the answer). */
async function join(
  { room }: { room: string },
  ctx: CommandContext,
): Promise<InputOutcome> {
  if (ctx.client.switchTo(room)) {
    return system(ctx, `now talking in ${label(ctx, room)}`);
  }
  await ctx.client.join(room);
  return "continue";
}

/** /query USER [TEXT]: open the DM room, make it current, send TEXT if given. */
async function query(
  { user, text }: { user: string; text: string | null },
  ctx: CommandContext,
): Promise<InputOutcome> {
  const room = await ctx.client.openDirect(user);
  if (room === null) return text === null ? "continue" : "retain"; // reported
  ctx.client.switchTo(room);
  system(ctx, `now talking in ${label(ctx, room)}`);
  return text === null ? "continue" : sent(ctx.client.send(text, "text", room));
}

/** /topic: show the current room's topic; /topic TEXT: set it (an encrypted, signed message). */
function topic(
  { text }: { text: string | null },
  ctx: CommandContext,
): InputOutcome {
  const room = ctx.client.currentRoom;
  if (text !== null) return sent(ctx.client.send(text, "topic", room));
  const current = ctx.client.topic(room);
  if (!current) return system(ctx, `no topic set in ${label(ctx, room)}`);
  return system(
    ctx,
    `topic of ${label(ctx, room)}: ${current.text} (set by ${current.from}, ${
      localTimestamp(current.ts).slice(0, 16)
    })`,
  );
}

/** /verify USER NUMBER: mark USER verified when the safety number matches. */
async function verify(
  { user, safetyNumber: typed }: { user: string; safetyNumber: string },
  ctx: CommandContext,
): Promise<InputOutcome> {
  const person = await findPerson(ctx, user);
  if (!person) return error(ctx, `no user named ${user}`);
  const expected = await safetyNumber(ctx.identity, person.identity);
  if (!safetyNumbersMatch(typed, expected)) {
    return error(
      ctx,
      `the safety number does NOT match ${person.user}'s current key; do not trust this key (see /whois ${person.user})`,
    );
  }
  const wasBlocked = ctx.trust.isBlocked(person.key);
  await ctx.trust.verify(person.key, person.fingerprint);
  if (wasBlocked) ctx.client.rekeyRoomsWith(person.key);
  return system(ctx, `${person.user} is now verified`);
}

/** /save [--format F] [PATH]: the current room's transcript to a new file. */
async function save(
  { path, format }: { path: string | null; format: "text" | "jsonl" },
  ctx: CommandContext,
): Promise<InputOutcome> {
  const room = ctx.client.currentRoom;
  const entries = ctx.client.transcript.entries(room);
  try {
    const saved = await saveToFile(
      path,
      defaultTranscriptName(room, new Date(), format),
      formatTranscript(room, entries, format),
      Deno.cwd(),
    );
    return system(
      ctx,
      `saved ${entries.length} message${entries.length === 1 ? "" : "s"} of ${
        label(ctx, room)
      } to ${saved}`,
    );
  } catch (e) {
    if (e instanceof SaveRefused) return error(ctx, `not saved: ${e.message}`);
    return error(ctx, `not saved: ${(e as Error).message}`);
  }
}

/** /ignore: list whom you ignore; /ignore USER: hide their messages. */
async function ignore(
  { user }: { user: string | null },
  ctx: CommandContext,
): Promise<InputOutcome> {
  if (user === null) {
    const list = ctx.trust.ignored;
    return system(
      ctx,
      list.length ? `ignoring: ${list.join(", ")}` : "you ignore nobody",
    );
  }
  await ctx.trust.setIgnored(user, true);
  return system(
    ctx,
    `ignoring ${user}: their messages are hidden (/unignore ${user})`,
  );
}

async function findPerson(
  ctx: CommandContext,
  user: string,
): Promise<Person | undefined> {
  const known = ctx.client.people.get(user);
  if (known) return known;
  const member = await ctx.client.lookup(user);
  if (!member) return undefined;
  return (await ctx.client.people.see(member)).person;
}
