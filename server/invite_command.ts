/**
 * `chat invite`: run next to a server (same data and certs directories),
 * record a single-use invite in its database, and print the exact
 * `chat join --invite CODE --user NAME` line to send to a friend (in the
 * form that runs for how chat was started: see join_line.ts).
 * @module
 */
import { join } from "node:path";
import { parseDuration } from "../shared/duration.ts";
import {
  encodeInvite,
  inviteSecretHash,
  newInviteSecret,
} from "../shared/invite_code.ts";
import { chatCommand, currentInvocation } from "./join_line.ts";
import { readServerRecord } from "./server_record.ts";
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

function usage(message: string): Error {
  return Object.assign(new Error(message), { usage: true });
}

function hinted(message: string, hint: string): Error {
  return Object.assign(new Error(message), { hint });
}

/** Create an invite and print the join line. Returns the line (for tests). */
export async function runInviteCommand(values: Values): Promise<string> {
  const dataDir = (values.data as string | undefined) ?? "data";
  const certsDir = (values.certs as string | undefined) ?? "certs";
  const usesText = (values.uses as string | undefined) ?? "1";
  if (
    !/^\d+$/.test(usesText) || Number(usesText) < 1 || Number(usesText) > 1000
  ) {
    throw usage(
      `--uses must be a whole number from 1 to 1000, not "${usesText}"`,
    );
  }
  let ttl: number;
  try {
    ttl = parseDuration((values.expires as string | undefined) ?? "24h");
  } catch (error) {
    throw usage(`--expires: ${(error as Error).message}`);
  }
  const record = await readServerRecord(dataDir);
  let server = values.server as string | undefined;
  if (!server) {
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
    server = `${host.includes(":") ? `[${host}]` : host}:${record.port}`;
  }
  if (record && record.caPath === null) {
    throw hinted(
      "this server uses a certificate you gave it (--cert/--key), so there is no local CA to put in an invite",
      "invites carry the local CA; with a publicly trusted certificate, friends join with --server HOST:PORT",
    );
  }
  const caPath = record?.caPath ?? join(certsDir, "ca.pem");
  let caPem: string;
  try {
    caPem = await Deno.readTextFile(caPath);
  } catch {
    throw hinted(
      `cannot read the server's CA certificate at ${caPath}`,
      "run chat invite next to the server (same --data and --certs); servers on --cert/--key have no local CA to put in a code",
    );
  }
  const secret = newInviteSecret();
  const now = Date.now();
  const store = new SqliteHistoryStore(join(dataDir, "chat.db"));
  try {
    await store.createInvite(
      await inviteSecretHash(secret),
      Number(usesText),
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
