/**
 * `chat join` and `chat id` as commands: keys, trust store, TLS, login,
 * then the interactive terminal or the line/JSON mode.
 * @module
 */
import { fingerprint, formatFingerprint } from "../shared/crypto/identity.ts";
import { normalizeRoomName, roomNameProblem } from "../shared/names.ts";
import { ChatClient } from "./chat_client.ts";
import { handleInput } from "./command_runner.ts";
import { configDir } from "./config_paths.ts";
import type { ChatEvent } from "./events.ts";
import { loadOrCreateIdentity } from "./identity_store.ts";
import { lineModePrinter, runLineMode } from "./line_mode.ts";
import {
  connectToServer,
  DEFAULT_PORT,
  parseServerAddress,
  readCaFile,
  type ServerAddress,
  type TrustedCa,
} from "./server_connection.ts";
import { ServerBook } from "./server_book.ts";
import { decodeInvite } from "../shared/invite_code.ts";
import { certificateFingerprint } from "../shared/pem.ts";
import { TerminalUi } from "./terminal_ui.ts";
import { TrustStore } from "./trust_store.ts";
import { keepConnected } from "./reconnect.ts";

/** What `chat join` was given. */
export interface JoinArgs {
  user: string;
  server: string | undefined;
  caPath: string | undefined;
  invite: string | undefined;
  room: string;
  json: boolean;
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
 * --ca, or the CA saved for it); else the server joined last; else
 * localhost:7443 with the system roots.
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
    : book.last;
  const label = args.server ?? saved?.address ?? `localhost:${DEFAULT_PORT}`;
  let ca: TrustedCa | null = null;
  if (args.caPath) {
    ca = { pem: await readCaFile(args.caPath), from: args.caPath };
  } else if (saved?.caPem) {
    ca = { pem: saved.caPem, from: `the CA saved for ${saved.address}` };
  }
  return { address: parseServerAddress(label), label, ca, invite: undefined };
}

function stderr(line: string): void {
  console.error(`chat: ${line}`);
}

/** Run `chat join`; resolves the exit code. */
export async function runJoinCommand(args: JoinArgs): Promise<number> {
  const roomProblem = roomNameProblem(args.room);
  if (roomProblem) {
    throw Object.assign(
      new Error(`bad --room "${args.room}": ${roomProblem}`),
      {
        hint: "use a name like general or team-x",
      },
    );
  }
  const room = normalizeRoomName(args.room);
  const dir = configDir();
  const book = await ServerBook.open(dir);
  const target = await resolveTarget(args, book);
  const address = target.address;
  const { identity, created, path } = await loadOrCreateIdentity(
    dir,
    args.user,
  );
  const myFingerprint = formatFingerprint(await fingerprint(identity));
  if (created) stderr(`created keys for ${identity.user} in ${path}`);
  const trust = await TrustStore.open(dir, identity.user);
  const connect = () => connectToServer(address, target.ca);
  const first = await connect(); // the first failure is fatal: wrong address or CA

  const interactive = !args.json && Deno.stdin.isTerminal() &&
    Deno.stdout.isTerminal();
  let client: ChatClient | null = null;
  const current = () => client?.currentRoom ?? room;
  const ui = interactive ? new TerminalUi(identity.user, current) : null;
  const emit: (event: ChatEvent) => void = ui
    ? ui.show
    : lineModePrinter(args.json, identity.user, current);

  client = new ChatClient({
    identity,
    fingerprint: myFingerprint,
    trust,
    serverName: address.host,
    room,
    onEvent: emit,
    ...(target.invite ? { invite: target.invite } : {}),
  });
  const session = keepConnected(client, first, connect, emit);
  try {
    await client.ready;
  } catch (error) {
    client.close();
    await session;
    throw Object.assign(
      new Error(`login refused: ${(error as Error).message}`),
      {
        hint: (error as { code?: string }).code === "name_taken"
          ? "that name belongs to another key on this server; pick another --user"
          : (error as { code?: string }).code === "room_full"
          ? "pick another room with --room"
          : "check --server, --ca and --user",
      },
    );
  }

  await book.remember(target.label, target.ca?.pem ?? null, identity.user);
  const ctx = { client, identity, trust, emit };
  const onLine = (line: string) => handleInput(line, ctx);
  const outcome = ui
    ? await ui.run(onLine, session)
    : await runLineMode(onLine, emit, session);
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
    stderr(`error: the server refused us: ${client.refusal.message}`);
    client.close();
    await session;
    return 1;
  }
  const unacknowledged = client.pendingCount;
  const refused = client.refusedSends;
  client.close();
  await session;
  if (unacknowledged > 0 || refused > 0) {
    stderr(
      `error: ${
        unacknowledged + refused
      } message(s) were not delivered (${refused} refused by the server, ${unacknowledged} unacknowledged)`,
    );
    return 1;
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

/** Run `chat id`: print the user's fingerprint (creating keys on first use). */
export async function runIdCommand(user: string): Promise<void> {
  const { identity, created, path } = await loadOrCreateIdentity(
    configDir(),
    user,
  );
  if (created) stderr(`created keys for ${identity.user} in ${path}`);
  console.log(
    `${identity.user} ${formatFingerprint(await fingerprint(identity))}`,
  );
}
