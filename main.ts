/**
 * `chat`: the command line. Parses arguments and hands over to server/ or
 * client/; nothing else lives here.
 * @module
 */
import { parseArgs } from "node:util";
import { VERSION } from "./version.ts";

const HELP =
  `chat ${VERSION} — end-to-end encrypted terminal chat for small teams

Usage:
  chat serve [--host 127.0.0.1] [--port 7443] [--data DIR] [--certs DIR]
             [--name DNS-or-IP ...] [--cert FILE --key FILE]
             [--op FINGERPRINT ...] [--ops-file FILE] [--invite-only]
             [limits: see docs/security.md, e.g. --rate-burst 10 --rate-per-second 2]
  chat join  --user NAME [--server HOST:PORT] [--ca FILE] [--room NAME] [--json]
  chat join  --invite CODE --user NAME       join with an invite (no --server, no --ca)
  chat id    --user NAME          print your key fingerprint
  chat invite [--uses 1] [--expires 24h] [--data DIR] [--certs DIR] [--server HOST:PORT]
  chat servers                    list servers you have joined
  chat --help | --version

serve   Start a TLS server. On first run it creates a local CA and a server
        certificate in --certs (default certs/) and prints the CA file that
        clients pass to --ca. State lives in --data (default data/).
join    Connect, log in with your key (created on first use under
        $XDG_CONFIG_HOME/chat or ~/.config/chat) and chat. Type /help inside.
        When stdin is not a terminal, each input line is a message or command;
        --json prints one JSON object per event. After the first join the
        server and its CA are remembered: "chat join --user NAME" reconnects.
invite  Run next to the server: prints a "chat join --invite CODE" line with
        the address, the CA and a single-use secret.
`;

/** A command-line mistake: exit code 2. */
class UsageError extends Error {}

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

async function join(args: string[]): Promise<void> {
  const v = parse(args, {
    user: { type: "string" },
    server: { type: "string" },
    ca: { type: "string" },
    room: { type: "string" },
    json: { type: "boolean" },
    invite: { type: "string" },
  });
  if (typeof v.user !== "string") {
    throw new UsageError("join needs --user NAME");
  }
  if (
    v.invite !== undefined && (v.server !== undefined || v.ca !== undefined)
  ) {
    throw new UsageError(
      "--invite already carries the server and its CA; drop --server and --ca",
    );
  }
  const { runJoinCommand } = await import("./client/join_command.ts");
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
  const v = parse(args, { user: { type: "string" } });
  if (typeof v.user !== "string") throw new UsageError("id needs --user NAME");
  const { runIdCommand } = await import("./client/join_command.ts");
  await runIdCommand(v.user);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "serve":
        return await serve(rest);
      case "join":
        return await join(rest);
      case "id":
        return await id(rest);
      case "invite":
        return await invite(rest);
      case "servers":
        return await servers(rest);
      case "--help":
      case "-h":
      case "help":
        console.log(HELP);
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
      fail(error.message, "run `chat --help` for usage", 2);
    }
    const e = error as Error & { hint?: string };
    fail(e.message, e.hint);
  }
}

if (import.meta.main) await main(Deno.args);
