/**
 * `chat serve`: TLS material, the store, the hub and the accept loop,
 * started and stopped as one unit.
 * @module
 */
import { join } from "node:path";
import { DEFAULT_LIMITS } from "../shared/limits.ts";
import { ChatHub } from "./hub.ts";
import { ensureLocalCertificates, loadServerTls } from "./local_ca.ts";
import { serveConnection } from "./session.ts";
import {
  type ConnectionLimits,
  FramedConnection,
} from "../shared/framed_connection.ts";
import { ConnectionTracker, type Refusal } from "./connection_tracker.ts";
import { frameBytes } from "./hub_state.ts";
import { type TlsByteStream, TlsListener } from "./tls_listener.ts";
import { LoginThrottle } from "./login_throttle.ts";
import { timestamped } from "./log_writer.ts";
import { loadOperators } from "./moderation.ts";
import { writeServerRecord } from "./server_record.ts";
import { SqliteHistoryStore } from "./store/sqlite_store.ts";

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
  /** Failed logins allowed per address per minute. */
  maxFailedLogins: number;
  rateBurst: number;
  ratePerSecond: number;
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
  rateBurst: 10,
  ratePerSecond: 2,
  ops: [],
  inviteOnly: false,
  log: (line) => console.log(timestamped(`chat: ${line}`, new Date())),
};

/** Connections over a cap that may wait for their error frame at once. */
const MAX_REFUSING = 64;

/** Send the refusal (within `ms`) on a handshaken connection, then close. */
async function refuseConnection(
  conn: TlsByteStream,
  refusal: Refusal,
  ms: number,
  limits: ConnectionLimits,
): Promise<void> {
  const framed = new FramedConnection(conn, limits);
  const timer = setTimeout(() => framed.close(), ms);
  try {
    framed.send(
      frameBytes({ t: "error", code: refusal.code, message: refusal.message }),
    );
    await framed.drain();
  } catch {
    // the peer went away
  } finally {
    clearTimeout(timer);
    framed.close();
  }
}

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

/** Start a server with `config`; resolves once it is listening. */
export async function startServer(
  config: ServerConfig,
): Promise<RunningServer> {
  await Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
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
  const ops = await loadOperators(config.ops, config.opsFile);
  const store = new SqliteHistoryStore(join(config.dataDir, "chat.db"));
  const hub = await ChatHub.open(store, {
    maxTextBytes: config.maxTextBytes,
    maxQueueBytes: config.maxQueueBytes,
    rateBurst: config.rateBurst,
    ratePerSecond: config.ratePerSecond,
    ops,
    inviteOnly: config.inviteOnly,
    log: config.log,
  });
  let trace: Deno.FsFile | null = null;
  if (config.traceFramesPath) {
    trace = await Deno.open(config.traceFramesPath, {
      create: true,
      append: true,
      mode: 0o600,
    });
  }
  const listener = await TlsListener.listen({
    hostname: config.host,
    port: config.port,
    cert: tls.cert,
    key: tls.key,
    handshakeTimeoutMs: config.loginTimeoutMs,
    maxHandshakesPerIp: config.maxConnectionsPerIp,
    log: config.log,
  });
  const tracker = new ConnectionTracker({
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    idlePingMs: config.idlePingMs,
    idleTimeoutMs: config.idleTimeoutMs,
  }, config.log);
  tracker.start();
  const running = new Set<Promise<void>>();
  const newline = new Uint8Array([10]);
  const sessionOptions = {
    serverNames: tls.names,
    maxFrameBytes: config.maxFrameBytes,
    maxKeysFrameBytes: config.maxKeysFrameBytes,
    maxTextBytes: config.maxTextBytes,
    maxQueueBytes: config.maxQueueBytes,
    loginTimeoutMs: config.loginTimeoutMs,
    log: config.log,
    loginThrottle: new LoginThrottle(config.maxFailedLogins),
    ...(trace
      ? {
        traceFrame: (body: Uint8Array) => {
          trace.writeSync(body);
          trace.writeSync(newline);
        },
      }
      : {}),
  };
  const limits = {
    maxFrameBytes: config.maxFrameBytes,
    maxQueueBytes: config.maxQueueBytes,
    writeTimeoutMs: config.writeTimeoutMs,
  };
  let refusing = 0;
  const serve = (conn: TlsByteStream) => {
    const ip = conn.remoteAddress;
    const refusal = tracker.refusal(ip);
    if (refusal) {
      if (refusing >= MAX_REFUSING) {
        conn.close(); // under a flood, not even the courtesy of an error frame
        return;
      }
      refusing++;
      const done = refuseConnection(
        conn,
        refusal,
        config.loginTimeoutMs,
        limits,
      )
        .finally(() => refusing--);
      running.add(done);
      done.finally(() => running.delete(done));
      return;
    }
    const framed = new FramedConnection(
      conn,
      limits,
      (reason) => config.log(`dropping a connection from ${ip}: ${reason}`),
    );
    const tracked = tracker.add(ip, framed);
    const done = serveConnection(framed, hub, sessionOptions, {
      ip,
      heard: () => tracker.heard(tracked),
      acceptedAt: conn.acceptedAt,
    }).finally(() => tracker.remove(tracked));
    running.add(done);
    done.finally(() => running.delete(done));
  };
  const acceptLoop = (async () => {
    while (true) {
      const conn = await listener.accept();
      if (!conn) return; // closed
      serve(conn);
    }
  })();
  const addr = listener.addr;
  await writeServerRecord(config.dataDir, {
    host: addr.hostname,
    port: addr.port,
    names: tls.names,
    caPath: caPath ? await Deno.realPath(caPath) : null,
    pid: Deno.pid,
  });
  let closing: Promise<void> | null = null;
  return {
    hostname: addr.hostname,
    port: addr.port,
    caPath,
    caFingerprint,
    certificateCreated: created,
    close() {
      closing ??= (async () => {
        listener.close();
        await acceptLoop;
        tracker.stop();
        hub.announceShutdown("the server is shutting down; reconnect later");
        const open = tracker.connections().map((t) => t.framed);
        await withDeadline(Promise.all(open.map((f) => f.drain())), 1000);
        for (const framed of open) framed.close();
        await Promise.allSettled([...running]);
        await withDeadline(listener.closed, 1000);
        await store.close();
        trace?.close();
      })();
      return closing;
    },
  };
}
