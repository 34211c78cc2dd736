/**
 * `chat serve`: TLS material, the store, the hub and the accept loop,
 * started and stopped as one unit.
 * @module
 */
import { join } from "node:path";
import { DEFAULT_LIMITS } from "../shared/limits.ts";
import { ChatHub } from "./hub.ts";
import type { FrameRate, LimitedFrame } from "./frame_limits.ts";
import { ensureLocalCertificates } from "./local_ca.ts";
import { prepareDataDir } from "./data_dirs.ts";
import { loadServerTls } from "./server_tls.ts";
import type { serveConnection } from "./session.ts";
import { connectionHandler } from "./connection_handler.ts";
import { ConnectionTracker } from "./connection_tracker.ts";
import { listenOrExplain } from "./listen.ts";
import {
  DEFAULT_INPUT_LIMITS,
  type InputLimits,
  inputLimitsFor,
} from "./input_budget.ts";
import type { TlsByteStream, TlsListener } from "./tls_listener.ts";
import { LoginThrottle } from "./login_throttle.ts";
import { timestamped } from "./log_writer.ts";
import { loadOperators } from "./operators.ts";
import { writeServerRecord } from "./server_record.ts";
import { SqliteHistoryStore } from "./store/sqlite_store.ts";
import type { StorageQuotas } from "./store/storage_quota.ts";

/** Everything `chat serve` can be told. */
export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  certsDir: string;
  /** Extra names (DNS or IP) for the generated certificate. */
  names: string[];
  certPath?: string;
  keyPath?: string;
  maxFrameBytes: number;
  /** A logged-in user's `keys` frame (one wrap, ~640 bytes, per member) may be this large. */
  maxKeysFrameBytes: number;
  maxTextBytes: number;
  maxQueueBytes: number;
  loginTimeoutMs: number;
  /** Send a ping after this much silence… */
  idlePingMs: number;
  /** …and drop the connection after this much. */
  idleTimeoutMs: number;
  /** One write taking longer than this drops the peer. */
  writeTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Failed logins per address, and per name, before delays start (login_throttle.ts). */
  maxFailedLogins: number;
  /** TLS handshakes in progress at once, from all addresses together. */
  maxHandshakes: number;
  /** …from one /24 (IPv4) or /64 (IPv6) network. */
  maxHandshakesPerPrefix: number;
  /** The shortest handshake deadline (when the server is nearly full of handshakes). */
  minHandshakeMs: number;
  /** What one connection may send (bytes and frames per second, bursts). */
  input: InputLimits;
  /** An address cut off for input_flood may not connect again for this long. */
  floodPenaltyMs: number;
  rateBurst: number;
  ratePerSecond: number;
  /** Per-user limits of the other frames, by class (`--frame-rate`). */
  frameRates?: Partial<Record<LimitedFrame, FrameRate>>;
  /** Anyone may open a DM with anyone (`--open-dms`), not only roommates. */
  openDms?: boolean;
  /** Per-user and per-room caps on stored messages and wraps (`--quota`). */
  storageQuotas?: StorageQuotas;
  /** Delete messages stored longer ago than this (`--retain`); unset keeps all. */
  retainMs?: number;
  /** Operators' key fingerprints (hex, spaces and colons ignored). */
  ops: string[];
  /** A file with one operator fingerprint per line. */
  opsFile?: string;
  /** Admit only operators and allowlisted fingerprints. */
  inviteOnly: boolean;
  /** Append every received frame body (ciphertext only) to this file. */
  traceFramesPath?: string;
  log: (line: string) => void;
}

/** Defaults for every setting (DESIGN.md, Limits). */
export const DEFAULT_SERVER_CONFIG: ServerConfig = {
  host: "127.0.0.1",
  port: 7443,
  dataDir: "data",
  certsDir: "certs",
  names: [],
  maxFrameBytes: DEFAULT_LIMITS.maxFrameBytes,
  maxKeysFrameBytes: 3 * 512 * 1024, // 2,000 members × ~660-byte wraps
  maxTextBytes: DEFAULT_LIMITS.maxTextBytes,
  maxQueueBytes: 1024 * 1024,
  loginTimeoutMs: 10_000,
  idlePingMs: 30_000,
  idleTimeoutMs: 90_000,
  writeTimeoutMs: 10_000,
  maxConnections: 20_000,
  maxConnectionsPerIp: 16,
  maxFailedLogins: 5,
  maxHandshakes: 2048,
  maxHandshakesPerPrefix: 64,
  minHandshakeMs: 1000,
  input: DEFAULT_INPUT_LIMITS,
  floodPenaltyMs: 10_000,
  rateBurst: 10,
  ratePerSecond: 2,
  ops: [],
  inviteOnly: false,
  log: (line) => console.log(timestamped(`chat: ${line}`, new Date())),
};

/** Wait for `work`, but no longer than `ms`. */
async function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A running server. */
export interface RunningServer {
  hostname: string;
  port: number;
  /** The local CA file clients should trust, when the server made its own. */
  caPath: string | null;
  caFingerprint: string | null;
  certificateCreated: boolean;
  /**
   * Stop accepting, tell every client, close connections once in-flight
   * commits are done, checkpoint and close the store.
   */
  close(): Promise<void>;
}

/** The server's certificate and key: given, or from the local CA (made if missing). */
async function serverTls(config: ServerConfig) {
  let caPath: string | null = null;
  let caFingerprint: string | null = null;
  let created = false;
  let certPath = config.certPath, keyPath = config.keyPath;
  if (!certPath || !keyPath) {
    const names = [config.host, ...config.names].filter((n) =>
      n !== "0.0.0.0" && n !== "::"
    );
    const files = await ensureLocalCertificates(config.certsDir, names);
    ({ certPath, keyPath, caPath, caFingerprint, created } = files);
  }
  const tls = await loadServerTls(certPath, keyPath);
  return { tls, caPath, caFingerprint, created };
}

/** The --trace-frames file: append each frame body and a newline. */
interface FrameTrace {
  write?: (body: Uint8Array) => void;
  close(): void;
}

async function openTrace(path: string | undefined): Promise<FrameTrace> {
  if (!path) return { close() {} };
  const file = await Deno.open(path, {
    create: true,
    append: true,
    mode: 0o600,
  });
  const newline = new Uint8Array([10]);
  return {
    write(body) {
      file.writeSync(body);
      file.writeSync(newline);
    },
    close: () => file.close(),
  };
}

/** What each session is told: names, limits, log, throttle, trace. */
function sessionOptionsFor(
  config: ServerConfig,
  serverNames: string[],
  trace: FrameTrace,
): Parameters<typeof serveConnection>[2] {
  return {
    serverNames,
    maxFrameBytes: config.maxFrameBytes,
    maxKeysFrameBytes: config.maxKeysFrameBytes,
    maxTextBytes: config.maxTextBytes,
    maxQueueBytes: config.maxQueueBytes,
    loginTimeoutMs: config.loginTimeoutMs,
    log: config.log,
    loginThrottle: new LoginThrottle(config.maxFailedLogins),
    ...(trace.write ? { traceFrame: trace.write } : {}),
  };
}

/** The parts of a running server that stopping it touches. */
interface ServerParts {
  listener: TlsListener;
  acceptLoop: Promise<void>;
  tracker: ConnectionTracker;
  hub: ChatHub;
  running: Set<Promise<void>>;
  store: SqliteHistoryStore;
  trace: FrameTrace;
}

/**
 * Stop accepting, tell every client, close connections once in-flight
 * commits are done, checkpoint and close the store.
 */
async function stopServer(parts: ServerParts): Promise<void> {
  const { listener, tracker, hub, running } = parts;
  listener.close();
  await parts.acceptLoop;
  tracker.stop();
  hub.announceShutdown("the server is shutting down; reconnect later");
  const open = tracker.connections().map((t) => t.framed);
  await withDeadline(Promise.all(open.map((f) => f.drain())), 1000);
  for (const framed of open) framed.close();
  await Promise.allSettled([...running]);
  await withDeadline(listener.closed, 1000);
  await parts.store.close();
  parts.trace.close();
}

/** Hand every accepted connection to `serve` until the listener closes. */
async function acceptAll(
  listener: TlsListener,
  serve: (conn: TlsByteStream) => void,
): Promise<void> {
  while (true) {
    const conn = await listener.accept();
    if (!conn) return; // closed
    serve(conn);
  }
}

/** The hub over `store`, with the limits and admission of `config` and operators `ops`. */
async function openHub(
  config: ServerConfig,
  ops: Set<string>,
  store: SqliteHistoryStore,
): Promise<ChatHub> {
  return await ChatHub.open(store, {
    maxTextBytes: config.maxTextBytes,
    maxQueueBytes: config.maxQueueBytes,
    rateBurst: config.rateBurst,
    ratePerSecond: config.ratePerSecond,
    frameRates: config.frameRates ?? {},
    openDms: config.openDms ?? false,
    ops,
    inviteOnly: config.inviteOnly,
    log: config.log,
  });
}

/** Bind the listener; on failure close what is already open (the store, the trace). */
async function listenFor(
  config: ServerConfig,
  tls: { cert: string; key: string },
  opened: { store: SqliteHistoryStore; trace: FrameTrace },
): Promise<TlsListener> {
  return await listenOrExplain({
    hostname: config.host,
    port: config.port,
    cert: tls.cert,
    key: tls.key,
    handshakeTimeoutMs: config.loginTimeoutMs,
    maxHandshakesPerIp: config.maxConnectionsPerIp,
    maxHandshakes: config.maxHandshakes,
    maxHandshakesPerPrefix: config.maxHandshakesPerPrefix,
    minHandshakeMs: config.minHandshakeMs,
    floodPenaltyMs: config.floodPenaltyMs,
    input: inputLimitsFor(config),
    log: config.log,
  }).catch(async (error) => {
    await opened.store.close(); // nothing else is open yet
    opened.trace.close();
    throw error;
  });
}

/** The connection tracker of `config`'s limits, started. */
function startTracker(config: ServerConfig): ConnectionTracker {
  const tracker = new ConnectionTracker({
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    idlePingMs: config.idlePingMs,
    idleTimeoutMs: config.idleTimeoutMs,
  }, config.log);
  tracker.start();
  return tracker;
}

/** Start a server with `config`; resolves once it is listening. */
export async function startServer(
  config: ServerConfig,
): Promise<RunningServer> {
  await Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await prepareDataDir(config.dataDir, config.log); // owner, mode, chat.db 0600
  const { tls, caPath, caFingerprint, created } = await serverTls(config);
  const ops = await loadOperators(config.ops, config.opsFile);
  const store = new SqliteHistoryStore(join(config.dataDir, "chat.db"), {
    ...(config.storageQuotas ? { quotas: config.storageQuotas } : {}),
    ...(config.retainMs !== undefined ? { retainMs: config.retainMs } : {}),
    log: config.log,
  });
  const hub = await openHub(config, ops, store);
  const trace = await openTrace(config.traceFramesPath);
  const listener = await listenFor(config, tls, { store, trace });
  const tracker = startTracker(config);
  const running = new Set<Promise<void>>();
  const serve = connectionHandler({
    config,
    hub,
    tracker,
    sessionOptions: sessionOptionsFor(config, tls.names, trace),
    limits: {
      maxFrameBytes: config.maxFrameBytes,
      maxQueueBytes: config.maxQueueBytes,
      writeTimeoutMs: config.writeTimeoutMs,
    },
    running,
    loggedIn: (ip) => listener.remember(ip),
    flooded: (ip) => listener.penalize(ip),
  });
  // failed logins per address and name, counted in checkLogin (login_throttle.ts)
  const logins = new LoginThrottle(config.maxFailedLogins);
  const acceptLoop = acceptAll(listener, logins.throttling(serve));
  const addr = listener.addr;
  await writeServerRecord(config.dataDir, {
    host: addr.hostname,
    port: addr.port,
    names: tls.names,
    caPath: caPath ? await Deno.realPath(caPath) : null,
    pid: Deno.pid,
  });
  const parts = { listener, acceptLoop, tracker, hub, running, store, trace };
  let closing: Promise<void> | null = null;
  return {
    hostname: addr.hostname,
    port: addr.port,
    caPath,
    caFingerprint,
    certificateCreated: created,
    close() {
      closing ??= stopServer(parts);
      return closing;
    },
  };
}
