/**
 * `chat`: the command line. Parses arguments and hands over to server/ or
 * client/; nothing else lives here.
 * @module
 */
import { parseArgs } from "node:util";
import { roomNameProblem, usernameProblem } from "./shared/names.ts";
import {
  COMMAND_USAGE,
  type CommandName,
  isCommandName,
  MAIN_USAGE,
} from "./usage.ts";
import { VERSION } from "./version.ts";

/** A command-line mistake: exit code 2, with a hint (else: see the usage). */
class UsageError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

function fail(message: string, hint?: string, code = 1): never {
  console.error(`chat: error: ${message}`);
  if (hint) console.error(`chat: hint: ${hint}`);
  Deno.exit(code);
}

type OptionSpec = NonNullable<
  NonNullable<Parameters<typeof parseArgs>[0]>["options"]
>;

function parse(args: string[], options: OptionSpec) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false })
      .values as Record<string, string | boolean | string[] | undefined>;
  } catch (error) {
    const message = (error as Error).message.split(". ")[0]!;
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1));
  }
}

async function serve(args: string[]): Promise<void> {
  const { SERVE_OPTIONS, runServeCommand } = await import(
    "./server/serve_command.ts"
  );
  const values = parse(args, SERVE_OPTIONS);
  try {
    await runServeCommand(values);
  } catch (error) {
    if ((error as { usage?: boolean }).usage) {
      throw new UsageError((error as Error).message);
    }
    throw error;
  }
}

async function invite(args: string[]): Promise<void> {
  const { INVITE_OPTIONS, runInviteCommand } = await import(
    "./server/invite_command.ts"
  );
  try {
    await runInviteCommand(parse(args, INVITE_OPTIONS));
  } catch (error) {
    if ((error as { usage?: boolean }).usage) {
      throw new UsageError((error as Error).message);
    }
    throw error;
  }
}

async function servers(args: string[]): Promise<void> {
  parse(args, {});
  const { runServersCommand } = await import("./client/join_command.ts");
  await runServersCommand();
}

/** Check --user (and --room) before anything runs: a bad value is a usage error. */
function checkNames(v: Record<string, unknown>): void {
  const user = String(v.user);
  const userProblem = usernameProblem(user);
  if (userProblem) {
    throw new UsageError(
      `invalid --user "${user}": ${userProblem}`,
      "pick a name like alice or bob_2",
    );
  }
  const room = v.room;
  const problem = typeof room === "string" ? roomNameProblem(room) : null;
  if (problem) {
    throw new UsageError(
      `bad --room "${room}": ${problem}`,
      "use a name like general or team-x",
    );
  }
}

async function join(args: string[]): Promise<void> {
  const { JOIN_OPTIONS, runJoinCommand } = await import(
    "./client/join_command.ts"
  );
  const v = parse(args, JOIN_OPTIONS);
  if (typeof v.user !== "string") {
    throw new UsageError("join needs --user NAME");
  }
  checkNames(v);
  if (
    v.invite !== undefined && (v.server !== undefined || v.ca !== undefined)
  ) {
    throw new UsageError(
      "--invite already carries the server and its CA; drop --server and --ca",
    );
  }
  const code = await runJoinCommand({
    user: v.user,
    server: v.server as string | undefined,
    caPath: v.ca as string | undefined,
    invite: v.invite as string | undefined,
    room: (v.room as string | undefined) ?? "general",
    json: v.json === true,
  });
  Deno.exit(code);
}

async function id(args: string[]): Promise<void> {
  const { ID_OPTIONS, runIdCommand } = await import(
    "./client/join_command.ts"
  );
  const v = parse(args, ID_OPTIONS);
  if (typeof v.user !== "string") throw new UsageError("id needs --user NAME");
  checkNames(v);
  await runIdCommand(v.user, v.create === true);
}

const RUN: Record<CommandName, (args: string[]) => Promise<void>> = {
  serve,
  join,
  id,
  invite,
  servers,
};

/** `--help` or `-h` anywhere after a command asks for that command's usage. */
function wantsHelp(args: string[]): boolean {
  return args.some((a) => a === "--help" || a === "-h");
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    if (isCommandName(command)) {
      if (wantsHelp(rest)) return void console.log(COMMAND_USAGE[command]);
      return await RUN[command](rest);
    }
    switch (command) {
      case "--help":
      case "-h":
      case "help":
        if (isCommandName(rest[0])) console.log(COMMAND_USAGE[rest[0]]);
        else console.log(MAIN_USAGE);
        return;
      case "--version":
      case "-V":
        console.log(
          `chat ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})`,
        );
        return;
      case undefined:
        throw new UsageError("no command given");
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const usage = isCommandName(command)
        ? `run \`chat ${command} --help\` for usage`
        : "run `chat --help` for usage";
      fail(error.message, error.hint ?? usage, 2);
    }
    const e = error as Error & { hint?: string };
    fail(e.message, e.hint);
  }
}

if (import.meta.main) await main(Deno.args);
