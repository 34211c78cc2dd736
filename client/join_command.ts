/**
 * `chat join` and `chat id` as commands: keys, trust store, TLS, login,
 * then the interactive terminal or the line/JSON mode.
 * @module
 */
import { fingerprint, formatFingerprint } from "../shared/crypto/identity.ts";
import { toHex } from "../shared/bytes.ts";
import { CliError } from "../shared/errors.ts";
import { normalizeRoomName } from "../shared/names.ts";
import { ChatClient } from "./chat_client.ts";
import { handleInput } from "./command_runner.ts";
import { configDir } from "./config_paths.ts";
import type { ChatEvent } from "./events.ts";
import {
  createIdentity,
  FirstLoginKeys,
  keyFilePath,
  loadIdentity,
} from "./identity_store.ts";
import { keysAfterRefusal, loginRefusalHint } from "./login_refusal.ts";
import { lineModePrinter, runLineMode } from "./line_mode.ts";
import {
  connectRetrying,
  connectToServer,
  DEFAULT_PORT,
  parseServerAddress,
  readCaFile,
  type ServerAddress,
  type TrustedCa,
} from "./server_connection.ts";
import { type SavedServer, ServerBook } from "./server_book.ts";
import { decodeInvite } from "../shared/invite_code.ts";
import { certificateFingerprint } from "../shared/pem.ts";
import { TerminalUi } from "./terminal_ui.ts";
import { TrustStore } from "./trust_store.ts";
import { keepConnected } from "./reconnect.ts";

/** The flags of `chat join`, for node:util parseArgs. */
export const JOIN_OPTIONS = {
  user: { type: "string" },
  server: { type: "string" },
  ca: { type: "string" },
  room: { type: "string" },
  json: { type: "boolean" },
  escape: { type: "boolean" },
  invite: { type: "string" },
} as const;

/** The flags of `chat id`, for node:util parseArgs. */
export const ID_OPTIONS = {
  user: { type: "string" },
  create: { type: "boolean" },
} as const;

/** What `chat join` was given. */
export interface JoinArgs {
  user: string;
  server: string | undefined;
  caPath: string | undefined;
  invite: string | undefined;
  room: string;
  json: boolean;
  /** With json: control, bidi and zero-width characters as `\uXXXX` text. */
  escape?: boolean;
}

/** Where to connect and which CA to trust, and why (for the user). */
interface Target {
  address: ServerAddress;
  /** As typed and as saved: host:port. */
  label: string;
  ca: TrustedCa | null;
  invite: string | undefined;
}

/**
 * Decide where to connect: an invite carries everything; --server (with
 * --ca, or the CA saved for it); else the saved server this user joined
 * last (saying so on stderr when that was a guess); else localhost:7443
 * with the system roots.
 */
async function resolveTarget(
  args: JoinArgs,
  book: ServerBook,
): Promise<Target> {
  if (args.invite) {
    const invite = decodeInvite(args.invite);
    return {
      address: parseServerAddress(invite.server),
      label: invite.server,
      ca: { pem: invite.caPem, from: "the invite code's CA" },
      invite: invite.secret,
    };
  }
  const saved = args.server
    ? book.find(args.server)
    : args.caPath
    ? undefined
    : chosenServer(book, args.user);
  const label = args.server ?? saved?.address ?? `localhost:${DEFAULT_PORT}`;
  let ca: TrustedCa | null = null;
  if (args.caPath) {
    ca = { pem: await readCaFile(args.caPath), from: args.caPath };
  } else if (saved?.caPem) {
    ca = { pem: saved.caPem, from: `the CA saved for ${saved.address}` };
  }
  return { address: parseServerAddress(label), label, ca, invite: undefined };
}

/** The saved server for `user`; a guess among several is said on stderr. */
function chosenServer(book: ServerBook, user: string): SavedServer | undefined {
  const choice = book.choose(user);
  if (choice?.ambiguous) {
    stderr(
      `using ${choice.server.address} (${choice.reason}); pass --server to choose`,
    );
  }
  return choice?.server;
}

function stderr(line: string): void {
  console.error(`chat: ${line}`);
}

/** The code a login refusal carries (a ProtocolError's), if any. */
function refusalCode(error: unknown): string | undefined {
  const code = error instanceof Error && "code" in error
    ? error.code
    : undefined;
  return typeof code === "string" ? code : undefined;
}

/**
 * Wait for the first login. A refusal becomes a CliError with a hint that
 * fits its code; first-login keys are kept only if the server accepted
 * them (client/identity_store.ts explains the pending file).
 */
async function firstLogin(
  client: ChatClient,
  session: Promise<unknown>,
  keys: FirstLoginKeys,
  args: JoinArgs,
): Promise<void> {
  try {
    await client.ready;
  } catch (error) {
    client.close();
    await session;
    const code = refusalCode(error);
    const keep = keysAfterRefusal(code);
    if (keep === "forget") await keys.refuse();
    if (keep === "keep") await savedKeys(keys);
    const why = error instanceof Error ? error.message : String(error);
    throw new CliError(`login refused: ${why}`, {
      hint: loginRefusalHint(code, {
        user: args.user,
        invite: args.invite !== undefined,
        fingerprintHex: toHex(await fingerprint(keys.identity)),
      }),
      cause: error,
    });
  }
  await savedKeys(keys);
}

/** Keep first-login keys the server accepted, and say where they are. */
async function savedKeys(keys: FirstLoginKeys): Promise<void> {
  if (!keys.isNew) return;
  await keys.accept();
  stderr(`created keys for ${keys.identity.user} in ${keys.path}`);
}

/**
 * Run `chat join`; resolves the exit code (1 when the session ended in a
 * refusal it has already shown). A failure to start (bad address or CA, a
 * refused first login) and an end with messages left undelivered are
 * thrown as a {@linkcode CliError}.
 */
export async function runJoinCommand(args: JoinArgs): Promise<number> {
  const room = normalizeRoomName(args.room);
  const dir = configDir();
  const book = await ServerBook.open(dir);
  const target = await resolveTarget(args, book);
  const address = target.address;
  const keys = await FirstLoginKeys.open(dir, args.user);
  const connect = () => connectToServer(address, target.ca);
  // the first failure is fatal (wrong address or CA), except a handshake
  // the server closed (busy, or refusing this address): retried a few times
  const first = await connectRetrying(address, target.ca, {
    say: stderr,
  });
  const identity = await keys.stage(); // on disk before the login carries it
  const myFingerprint = formatFingerprint(await fingerprint(identity));
  const trust = await TrustStore.open(dir, identity.user);

  const interactive = !args.json && Deno.stdin.isTerminal() &&
    Deno.stdout.isTerminal();
  let client: ChatClient | null = null;
  const current = () => client?.currentRoom ?? room;
  const ui = interactive ? new TerminalUi(identity.user, current) : null;
  const emit: (event: ChatEvent) => void = ui
    ? ui.show
    : lineModePrinter(args.json, identity.user, current, args.escape === true);

  client = new ChatClient({
    identity,
    fingerprint: myFingerprint,
    trust,
    serverName: address.host,
    serverLabel: target.label,
    room,
    onEvent: emit,
    ...(target.invite ? { invite: target.invite } : {}),
  });
  const session = keepConnected(client, first, connect, emit);
  await firstLogin(client, session, keys, args);

  await book.remember(target.label, target.ca?.pem ?? null, identity.user);
  const ctx = { client, identity, trust, emit };
  const onLine = (line: string) => handleInput(line, ctx);
  const outcome = ui ? await ui.run(onLine, session) : await runLineMode(
    async (line) => {
      // a script's lines wait for room in the outbox instead of being refused
      await client.whenCanSend();
      return await onLine(line);
    },
    emit,
    session,
  );
  return await finish(client, session, outcome, emit);
}

/**
 * After the input ended (or the session did): the exit code, or a
 * CliError when the server refused us or messages were not delivered.
 */
async function finish(
  client: ChatClient,
  session: Promise<unknown>,
  outcome: string,
  emit: (event: ChatEvent) => void,
): Promise<number> {
  if (outcome === "closed") {
    emit({
      type: "error",
      message: `the server refused us: ${
        client.refusal?.message ?? "connection closed"
      }`,
    });
    return 1;
  }
  await client.whenIdle();
  if (client.refusal) {
    // refused (kicked, banned) while input was ending: that is not a clean exit
    const refusal = client.refusal;
    client.close();
    await session;
    throw new CliError(`the server refused us: ${refusal.message}`, {
      cause: refusal,
    });
  }
  const unacknowledged = client.pendingCount;
  const refused = client.refusedSends;
  client.close();
  await session;
  if (unacknowledged > 0 || refused > 0) {
    throw new CliError(
      `${
        unacknowledged + refused
      } message(s) were not delivered (${refused} refused by the server, ${unacknowledged} unacknowledged)`,
    );
  }
  return 0;
}

/** Run `chat servers`: list the servers this config directory has joined. */
export async function runServersCommand(): Promise<void> {
  const book = await ServerBook.open(configDir());
  if (book.servers.length === 0) {
    console.log(
      "no saved servers yet: join one with --server and --ca, or with --invite",
    );
    return;
  }
  for (const s of book.servers) {
    const ca = s.caPem
      ? `CA ${(await certificateFingerprint(s.caPem)).slice(0, 23)}…`
      : "system CAs";
    console.log(
      `${s.address}  ${ca}  last used ${s.lastUsed}  users: ${
        s.users.join(", ")
      }`,
    );
  }
}

/**
 * Run `chat id`: print the fingerprint of the user's keys. Only keys that
 * exist: with `create`, they are made first if missing; without, a user
 * with no keys is a {@linkcode CliError} with a hint to `--create`.
 */
export async function runIdCommand(
  user: string,
  create: boolean,
): Promise<void> {
  const dir = configDir();
  const loaded = create
    ? await createIdentity(dir, user)
    : await loadIdentity(dir, user);
  if (!loaded) {
    throw new CliError(`${user} has no keys here (${keyFilePath(dir, user)})`, {
      hint:
        `\`chat id --user ${user} --create\` makes them (e.g. to give an operator your fingerprint for /allow on an invite-only server); \`chat join\` makes them at your first login`,
    });
  }
  const { identity, created, path } = loaded;
  if (created) stderr(`created keys for ${identity.user} in ${path}`);
  console.log(
    `${identity.user} ${formatFingerprint(await fingerprint(identity))}`,
  );
}
