/**
 * `chat invite`: run next to a server (same data and certs directories),
 * record a single-use invite in its database, and print the exact
 * `chat join --invite CODE --user NAME` line to send to a friend (in the
 * form that runs for how chat was started: see join_line.ts).
 * @module
 */
import { join } from "node:path";
import { parseDuration } from "../shared/duration.ts";
import { CliError } from "../shared/errors.ts";
import {
  encodeInvite,
  inviteSecretHash,
  newInviteSecret,
} from "../shared/invite_code.ts";
import { chatCommand, currentInvocation } from "./join_line.ts";
import { readServerRecord, type ServerRecord } from "./server_record.ts";
import { SqliteHistoryStore } from "./store/sqlite_store.ts";

/** The flags of `chat invite`, for node:util parseArgs. */
export const INVITE_OPTIONS = {
  uses: { type: "string" },
  expires: { type: "string" },
  data: { type: "string" },
  certs: { type: "string" },
  server: { type: "string" },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

/** A flag with a bad value: a usage error (exit code 2). */
function usage(message: string): CliError {
  return new CliError(message, { usage: true });
}

/** A failure with a line saying what to do about it. */
function hinted(message: string, hint: string): CliError {
  return new CliError(message, { hint });
}

/** --uses and --expires, checked: how often and for how long (ms) it works. */
function inviteLimits(values: Values): { uses: number; ttl: number } {
  const usesText = (values.uses as string | undefined) ?? "1";
  if (
    !/^\d+$/.test(usesText) || Number(usesText) < 1 || Number(usesText) > 1000
  ) {
    throw usage(
      `--uses must be a whole number from 1 to 1000, not "${usesText}"`,
    );
  }
  try {
    const ttl = parseDuration((values.expires as string | undefined) ?? "24h");
    return { uses: Number(usesText), ttl };
  } catch (error) {
    throw usage(`--expires: ${(error as Error).message}`);
  }
}

/** The HOST:PORT clients dial: --server, else what the server recorded. */
function dialAddress(
  values: Values,
  record: ServerRecord | null,
  dataDir: string,
): string {
  const server = values.server as string | undefined;
  if (server) return server;
  if (!record) {
    throw hinted(
      `no server has recorded its address in ${dataDir}`,
      "start `chat serve` with this --data directory first, or give --server HOST:PORT",
    );
  }
  const wildcard = record.host === "0.0.0.0" || record.host === "::";
  const host = wildcard
    ? record.names.find((n) => n !== "localhost" && n !== "127.0.0.1")
    : record.host;
  if (!host) {
    throw hinted(
      `the server listens on ${record.host}, which clients cannot dial`,
      "give the public address with --server chat.example.org:7443",
    );
  }
  return `${host.includes(":") ? `[${host}]` : host}:${record.port}`;
}

/** The PEM of the server's local CA, which the invite carries. */
async function localCaPem(
  record: ServerRecord | null,
  certsDir: string,
): Promise<string> {
  if (record && record.caPath === null) {
    throw hinted(
      "this server uses a certificate you gave it (--cert/--key), so there is no local CA to put in an invite",
      "invites carry the local CA; with a publicly trusted certificate, friends join with --server HOST:PORT",
    );
  }
  const caPath = record?.caPath ?? join(certsDir, "ca.pem");
  try {
    return await Deno.readTextFile(caPath);
  } catch {
    throw hinted(
      `cannot read the server's CA certificate at ${caPath}`,
      "run chat invite next to the server (same --data and --certs); servers on --cert/--key have no local CA to put in a code",
    );
  }
}

/**
 * Create an invite and print the join line. Returns the line (for tests).
 * What stops it (a bad flag, no server recorded, no local CA) is thrown as
 * a {@linkcode CliError}.
 */
export async function runInviteCommand(values: Values): Promise<string> {
  const dataDir = (values.data as string | undefined) ?? "data";
  const certsDir = (values.certs as string | undefined) ?? "certs";
  const { uses, ttl } = inviteLimits(values);
  const record = await readServerRecord(dataDir);
  const server = dialAddress(values, record, dataDir);
  const caPem = await localCaPem(record, certsDir);
  const secret = newInviteSecret();
  const now = Date.now();
  const store = new SqliteHistoryStore(join(dataDir, "chat.db"));
  try {
    await store.createInvite(
      await inviteSecretHash(secret),
      uses,
      now + ttl,
      now,
    );
  } finally {
    await store.close();
  }
  const joinCommand = chatCommand(currentInvocation(), "join");
  const line = `${joinCommand} --invite ${
    encodeInvite({ server, caPem, secret })
  } --user NAME`;
  console.log(line);
  return line;
}
