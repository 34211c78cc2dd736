/**
 * `chat serve` as a command: turn flags into a ServerConfig (every limit
 * has one), start, print where the CA is, stop cleanly on SIGINT/SIGTERM.
 * @module
 */
import { chatCommand, currentInvocation, shellWord } from "./join_line.ts";
import { TurnBatchedLog } from "./log_writer.ts";
import { STORAGE_OPTIONS, storageFromFlags } from "./storage_flags.ts";
import { parseDuration } from "../shared/duration.ts";
import { CliError } from "../shared/errors.ts";
import {
  type FrameRate,
  type LimitedFrame,
  parseFrameRate,
} from "./frame_limits.ts";
import {
  DEFAULT_SERVER_CONFIG,
  type ServerConfig,
  startServer,
} from "./serve.ts";

/** The flags of `chat serve`, for node:util parseArgs. */
export const SERVE_OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  data: { type: "string" },
  certs: { type: "string" },
  name: { type: "string", multiple: true },
  cert: { type: "string" },
  key: { type: "string" },
  "trace-frames": { type: "string" },
  op: { type: "string", multiple: true },
  "ops-file": { type: "string" },
  "invite-only": { type: "boolean" },
  "max-frame-bytes": { type: "string" },
  "max-keys-frame-bytes": { type: "string" },
  "max-text-bytes": { type: "string" },
  "max-queue-bytes": { type: "string" },
  "login-timeout": { type: "string" },
  "idle-ping": { type: "string" },
  "idle-timeout": { type: "string" },
  "write-timeout": { type: "string" },
  "max-connections": { type: "string" },
  "max-connections-per-ip": { type: "string" },
  "max-failed-logins": { type: "string" },
  "max-handshakes": { type: "string" },
  "max-handshakes-per-prefix": { type: "string" },
  "min-handshake-timeout": { type: "string" },
  "input-bytes-per-second": { type: "string" },
  "input-bytes-burst": { type: "string" },
  "input-frames-per-second": { type: "string" },
  "input-frames-burst": { type: "string" },
  "flood-penalty": { type: "string" },
  "rate-burst": { type: "string" },
  "rate-per-second": { type: "string" },
  ...STORAGE_OPTIONS,
  "frame-rate": { type: "string", multiple: true },
  "open-dms": { type: "boolean" },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

/** The largest --max-frame-bytes: what every client can still read. */
const MAX_FRAME_BYTES_FLAG = 1024 * 1024;

/** The largest --max-keys-frame-bytes: a room's 2,000 wraps never need more. */
const MAX_KEYS_FRAME_BYTES_FLAG = 4 * 1024 * 1024;

/** A flag with a bad value: a usage error (exit code 2). */
function usage(message: string): CliError {
  return new CliError(message, { usage: true });
}

function count(
  values: Values,
  flag: string,
  fallback: number,
  min = 1,
): number {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (
    typeof raw !== "string" || !/^\d+$/.test(raw) || n < min ||
    !Number.isSafeInteger(n)
  ) {
    throw usage(
      `--${flag} must be a whole number of at least ${min}, not "${raw}"`,
    );
  }
  return n;
}

function rate(values: Values, flag: string, fallback: number): number {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || !/^\d+(\.\d+)?$/.test(raw) || n <= 0) {
    throw usage(`--${flag} must be a positive number, not "${raw}"`);
  }
  return n;
}

function duration(values: Values, flag: string, fallback: number): number {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  try {
    const ms = parseDuration(String(raw));
    if (ms <= 0) throw new RangeError("must be positive");
    return ms;
  } catch (error) {
    throw usage(`--${flag}: ${(error as Error).message}`);
  }
}

/** `--frame-rate CLASS=BURST/PERSECOND`, repeatable. */
function frameRates(
  values: Values,
): Partial<Record<LimitedFrame, FrameRate>> {
  const rates: Partial<Record<LimitedFrame, FrameRate>> = {};
  for (const text of (values["frame-rate"] as string[] | undefined) ?? []) {
    try {
      const [name, r] = parseFrameRate(text);
      rates[name] = r;
    } catch (error) {
      throw usage(`--frame-rate: ${(error as Error).message}`);
    }
  }
  return rates;
}

/** The handshake caps and input budgets (docs/security.md, Abuse limits: transport). */
function transportFromFlags(
  values: Values,
): Pick<
  ServerConfig,
  | "maxHandshakes"
  | "maxHandshakesPerPrefix"
  | "minHandshakeMs"
  | "input"
  | "floodPenaltyMs"
> {
  const d = DEFAULT_SERVER_CONFIG;
  return {
    floodPenaltyMs: duration(values, "flood-penalty", d.floodPenaltyMs),
    maxHandshakes: count(values, "max-handshakes", d.maxHandshakes),
    maxHandshakesPerPrefix: count(
      values,
      "max-handshakes-per-prefix",
      d.maxHandshakesPerPrefix,
    ),
    minHandshakeMs: duration(values, "min-handshake-timeout", d.minHandshakeMs),
    input: {
      bytesPerSecond: count(
        values,
        "input-bytes-per-second",
        d.input.bytesPerSecond,
        1024,
      ),
      bytesBurst: count(values, "input-bytes-burst", d.input.bytesBurst, 1024),
      framesPerSecond: rate(
        values,
        "input-frames-per-second",
        d.input.framesPerSecond,
      ),
      framesBurst: count(values, "input-frames-burst", d.input.framesBurst),
    },
  };
}

function port(values: Values): number {
  const raw = values.port;
  if (raw === undefined) return DEFAULT_SERVER_CONFIG.port;
  const n = Number(raw);
  if (typeof raw !== "string" || !/^\d+$/.test(raw) || n > 65535) {
    throw usage(`--port must be a number from 0 to 65535, not "${raw}"`);
  }
  return n;
}

/**
 * Build the server configuration from parsed flags; a bad flag throws a
 * {@linkcode CliError} marked as a usage error.
 */
export function configFromFlags(values: Values): ServerConfig {
  const d = DEFAULT_SERVER_CONFIG;
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw usage("--cert and --key go together");
  }
  const config: ServerConfig = {
    ...d,
    host: (values.host as string | undefined) ?? d.host,
    port: port(values),
    dataDir: (values.data as string | undefined) ?? d.dataDir,
    certsDir: (values.certs as string | undefined) ?? d.certsDir,
    names: (values.name as string[] | undefined) ?? [],
    maxFrameBytes: count(values, "max-frame-bytes", d.maxFrameBytes, 1024),
    maxKeysFrameBytes: count(
      values,
      "max-keys-frame-bytes",
      d.maxKeysFrameBytes,
      1024,
    ),
    maxTextBytes: count(values, "max-text-bytes", d.maxTextBytes),
    maxQueueBytes: count(values, "max-queue-bytes", d.maxQueueBytes, 1024),
    loginTimeoutMs: duration(values, "login-timeout", d.loginTimeoutMs),
    idlePingMs: duration(values, "idle-ping", d.idlePingMs),
    idleTimeoutMs: duration(values, "idle-timeout", d.idleTimeoutMs),
    writeTimeoutMs: duration(values, "write-timeout", d.writeTimeoutMs),
    maxConnections: count(values, "max-connections", d.maxConnections),
    maxConnectionsPerIp: count(
      values,
      "max-connections-per-ip",
      d.maxConnectionsPerIp,
    ),
    maxFailedLogins: count(values, "max-failed-logins", d.maxFailedLogins),
    ...transportFromFlags(values),
    rateBurst: count(values, "rate-burst", d.rateBurst),
    ratePerSecond: rate(values, "rate-per-second", d.ratePerSecond),
    frameRates: frameRates(values),
    openDms: values["open-dms"] === true,
    ...storageFromFlags(values),
    ops: (values.op as string[] | undefined) ?? [],
    inviteOnly: values["invite-only"] === true,
    ...(values.cert
      ? { certPath: values.cert as string, keyPath: values.key as string }
      : {}),
    ...(values["ops-file"] ? { opsFile: values["ops-file"] as string } : {}),
    ...(values["trace-frames"]
      ? { traceFramesPath: values["trace-frames"] as string }
      : {}),
  };
  if (config.idleTimeoutMs <= config.idlePingMs) {
    throw usage("--idle-timeout must be longer than --idle-ping");
  }
  if (config.maxTextBytes * 2 + 1024 > config.maxFrameBytes) {
    throw usage(
      "--max-frame-bytes must be at least twice --max-text-bytes plus 1 KiB",
    );
  }
  // clients read frames up to CLIENT_MAX_FRAME_BYTES; a bigger limit would
  // let the server relay messages no client can read
  if (config.maxFrameBytes > MAX_FRAME_BYTES_FLAG) {
    throw usage(
      `--max-frame-bytes may be at most ${MAX_FRAME_BYTES_FLAG} (1 MiB)`,
    );
  }
  if (config.maxKeysFrameBytes > MAX_KEYS_FRAME_BYTES_FLAG) {
    throw usage(
      `--max-keys-frame-bytes may be at most ${MAX_KEYS_FRAME_BYTES_FLAG} (4 MiB)`,
    );
  }
  // the largest frame a client may send must fit in one burst
  if (config.input.bytesBurst < config.maxKeysFrameBytes + 4) {
    throw usage(
      "--input-bytes-burst must be larger than --max-keys-frame-bytes",
    );
  }
  return config;
}

/** Run the server until a signal stops it. */
export async function runServeCommand(values: Values): Promise<void> {
  const batched = new TurnBatchedLog();
  try {
    await serveUntilStopped(values, batched);
  } finally {
    batched.flush(); // nothing logged is lost on the way out
  }
}

async function serveUntilStopped(
  values: Values,
  batched: TurnBatchedLog,
): Promise<void> {
  const log = (line: string) => batched.log(`chat: ${line}`);
  const config = { ...configFromFlags(values), log };
  const server = await startServer(config);
  if (server.caPath) {
    log(
      `${
        server.certificateCreated ? "created" : "using"
      } local CA ${server.caPath}`,
    );
    log(`CA fingerprint (SHA-256) ${server.caFingerprint}`);
    const wildcard = server.hostname === "0.0.0.0" || server.hostname === "::";
    const host = wildcard ? (config.names[0] ?? "THIS-HOST") : server.hostname;
    const joinCommand = chatCommand(currentInvocation(), "join");
    log(
      `clients join with: ${joinCommand} --user NAME --server ${host}:${server.port} --ca ${
        shellWord(server.caPath)
      }`,
    );
  }
  log(`listening on ${server.hostname}:${server.port}`);
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await stopped.promise;
  log("shutting down");
  const hardStop = setTimeout(() => {
    log("error: shutdown took over 5 s; exiting anyway");
    batched.flush();
    Deno.exit(1);
  }, 5000);
  await server.close();
  clearTimeout(hardStop);
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  log("stopped");
}
