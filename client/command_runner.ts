/**
 * Carrying out what the user typed against a ChatClient. Shared by the
 * interactive terminal and the line/JSON mode. One small handler per
 * command; answers are events (structured where a bot needs the fields:
 * `who`, `whois`; `rooms` comes from the engine).
 * @module
 */
import type { ModFrame } from "../shared/protocol.ts";
import type { SendResult } from "./chat_client.ts";
import { type Command, COMMAND_HELP, parseInput } from "./commands.ts";
import {
  type CommandContext,
  error,
  type InputOutcome,
  label,
  system,
} from "./command_context.ts";
import { SaveRefused, saveToFile } from "./safe_save.ts";
import {
  defaultTranscriptName,
  formatTranscript,
  localTimestamp,
} from "./transcript.ts";
import { ignore, unignore, verify, who, whois } from "./trust_commands.ts";

export type {
  CommandClient,
  CommandContext,
  InputOutcome,
} from "./command_context.ts";
export { trustLevel } from "./trust_commands.ts";

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
  unignore,
  // ChatClient.moderate writes a request frame and resolves once the
  // server answered it (a notice, or an error already reported)
  allowDm: ({ user, allow }, ctx) =>
    answered(
      ctx.client.moderate(
        { t: "allow_dm", user, allow } as unknown as ModFrame,
      ),
    ),
};

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
