/**
 * `chat`: the command line. Parses arguments and hands over to server/ or
 * client/; nothing else lives here. Every failure reaches {@linkcode main}
 * as a thrown error and is rendered there, once: `chat: error: …` and
 * `chat: hint: …` on stderr, exit 2 for a usage error, else 1.
 * @module
 */
import { parseArgs } from "node:util";
import { CliError } from "./shared/errors.ts";
import { roomNameProblem, usernameProblem } from "./shared/names.ts";
import {
  COMMAND_USAGE,
  type CommandName,
  isCommandName,
  MAIN_USAGE,
} from "./usage.ts";
import { VERSION } from "./version.ts";

/** A command-line mistake (exit 2); without a hint, the usage hint is shown. */
function usageError(message: string, hint?: string): CliError {
  return new CliError(message, hint ? { usage: true, hint } : { usage: true });
}

type OptionSpec = NonNullable<
  NonNullable<Parameters<typeof parseArgs>[0]>["options"]
>;

type Values = Record<string, string | boolean | string[] | undefined>;

/** Parse a command's flags; an unknown flag or a missing value is a usage error. */
function parse(args: string[], options: OptionSpec): Values {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false })
      .values as Values;
  } catch (error) {
    const message = (error as Error).message.split(". ")[0]!;
    throw usageError(message.charAt(0).toLowerCase() + message.slice(1));
  }
}

async function serve(args: string[]): Promise<void> {
  const { SERVE_OPTIONS, runServeCommand } = await import(
    "./server/serve_command.ts"
  );
  await runServeCommand(parse(args, SERVE_OPTIONS));
}

async function invite(args: string[]): Promise<void> {
  const { INVITE_OPTIONS, runInviteCommand } = await import(
    "./server/invite_command.ts"
  );
  await runInviteCommand(parse(args, INVITE_OPTIONS));
}

async function servers(args: string[]): Promise<void> {
  parse(args, {});
  const { runServersCommand } = await import("./client/join_command.ts");
  await runServersCommand();
}

/** Check --user (and --room) before anything runs: a bad value is a usage error. */
function checkNames(v: Values): void {
  const user = String(v.user);
  const userProblem = usernameProblem(user);
  if (userProblem) {
    throw usageError(
      `invalid --user "${user}": ${userProblem}`,
      "pick a name like alice or bob_2",
    );
  }
  const room = v.room;
  const problem = typeof room === "string" ? roomNameProblem(room) : null;
  if (problem) {
    throw usageError(
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
  if (typeof v.user !== "string") throw usageError("join needs --user NAME");
  checkNames(v);
  if (
    v.invite !== undefined && (v.server !== undefined || v.ca !== undefined)
  ) {
    throw usageError(
      "--invite already carries the server and its CA; drop --server and --ca",
    );
  }
  if (v.escape === true && v.json !== true) {
    throw usageError("--escape only applies to --json output; add --json");
  }
  const code = await runJoinCommand({
    user: v.user,
    server: v.server as string | undefined,
    caPath: v.ca as string | undefined,
    invite: v.invite as string | undefined,
    room: (v.room as string | undefined) ?? "general",
    json: v.json === true,
    escape: v.escape === true,
  });
  Deno.exit(code);
}

async function id(args: string[]): Promise<void> {
  const { ID_OPTIONS, runIdCommand } = await import(
    "./client/join_command.ts"
  );
  const v = parse(args, ID_OPTIONS);
  if (typeof v.user !== "string") throw usageError("id needs --user NAME");
  checkNames(v);
  await runIdCommand(v.user, v.create === true);
}

/** One handler per command; each parses its own flags. */
const RUN: Record<CommandName, (args: string[]) => Promise<void>> = {
  serve,
  join,
  id,
  invite,
  servers,
};

/** `chat --help` (or `chat help COMMAND`): usage to stdout. */
function help(rest: string[]): void {
  console.log(isCommandName(rest[0]) ? COMMAND_USAGE[rest[0]] : MAIN_USAGE);
}

function version(): void {
  console.log(
    `chat ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})`,
  );
}

/** What `chat` does when the first word is not a command. */
const TOP_LEVEL: Readonly<Record<string, (rest: string[]) => void>> = {
  "--help": help,
  "-h": help,
  help,
  "--version": version,
  "-V": version,
};

/** `--help` or `-h` anywhere after a command asks for that command's usage. */
function wantsHelp(args: string[]): boolean {
  return args.some((a) => a === "--help" || a === "-h");
}

/** Run what `argv` asks for; every failure is thrown, to {@linkcode main}. */
async function dispatch(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (isCommandName(command)) {
    if (wantsHelp(rest)) return void console.log(COMMAND_USAGE[command]);
    return await RUN[command](rest);
  }
  if (command === undefined) throw usageError("no command given");
  const run = Object.hasOwn(TOP_LEVEL, command) ? TOP_LEVEL[command] : null;
  if (!run) throw usageError(`unknown command "${command}"`);
  run(rest);
}

/**
 * The one place a failure is shown: `chat: error: …`, then `chat: hint: …`
 * (for a usage error without its own hint, where to find the usage), and
 * the exit code: 2 for a usage error, else 1. Anything that is not a
 * CliError (a bug, or an unexplained failure of the system) gets the same
 * one line, without a stack trace.
 */
function exitWithError(error: unknown, command: string | undefined): never {
  const cli = error instanceof CliError ? error : null;
  const message = error instanceof Error ? error.message : String(error);
  let hint = cli?.hint;
  if (cli?.usage && !hint) {
    hint = isCommandName(command)
      ? `run \`chat ${command} --help\` for usage`
      : "run `chat --help` for usage";
  }
  console.error(`chat: error: ${message}`);
  if (hint) console.error(`chat: hint: ${hint}`);
  Deno.exit(cli?.usage ? 2 : 1);
}

/** Run `chat` with `argv` (the arguments after the program name). */
async function main(argv: string[]): Promise<void> {
  try {
    await dispatch(argv);
  } catch (error) {
    exitWithError(error, argv[0]);
  }
}

if (import.meta.main) await main(Deno.args);
