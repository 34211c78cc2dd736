/**
 * The server's TLS listener: a `node:net` server whose raw sockets are
 * wrapped in `node:tls` only once the handshake gate admits them. Measured
 * in Deno 2.9.6: a `tls.Server` keeps ~19 kB for every connection it
 * refuses (+374 MB for 20,000), a `node:net` server that refuses before any
 * TLS object exists about 2 kB; pausing a TLSSocket does not stop reading,
 * pausing the raw socket under it does (see tls_byte_stream.ts).
 * `Deno.listenTls` cannot drop a client that never completes its handshake;
 * here a deadline destroys the raw socket.
 * @module
 */
import net from "node:net";
import tls from "node:tls";
import { HandshakeGate, type HandshakeLimits } from "./handshake_gate.ts";
import type { InputLimits } from "./input_budget.ts";
import { RefusalLog } from "./refusal_log.ts";
import { normalizeAddress, TlsByteStream } from "./tls_byte_stream.ts";

export { TlsByteStream } from "./tls_byte_stream.ts";

/** How to listen. */
export interface TlsListenOptions extends HandshakeLimits {
  hostname: string;
  port: number;
  cert: string;
  key: string;
  /** What each connection may send. */
  input: InputLimits;
  log: (line: string) => void;
}

/** One handshake in progress. */
interface PendingHandshake {
  raw: net.Socket;
  at: number;
  /** Stop counting it (idempotent). */
  end: () => void;
  /** We closed it (deadline, eviction, shutdown), not the peer. */
  ours: boolean;
}

/** A TLS listener with an async accept(), like Deno.Listener. */
export class TlsListener {
  #server: net.Server;
  #context: tls.SecureContext;
  #options: TlsListenOptions;
  #gate: HandshakeGate;
  #refusals: RefusalLog;
  #queue: TlsByteStream[] = [];
  #waiters: ((conn: TlsByteStream | null) => void)[] = [];
  #closed = false;
  /** Raw sockets still in their handshake. */
  #pending = new Set<net.Socket>();
  /** The handshakes in progress of each address, oldest first. */
  #byIp = new Map<string, PendingHandshake[]>();
  #address: { hostname: string; port: number } = { hostname: "", port: 0 };
  #fullyClosed = Promise.withResolvers<void>();

  private constructor(server: net.Server, options: TlsListenOptions) {
    this.#server = server;
    this.#options = options;
    this.#context = tls.createSecureContext({
      cert: options.cert,
      key: options.key,
      minVersion: "TLSv1.2",
    });
    this.#gate = new HandshakeGate(options);
    this.#refusals = new RefusalLog(options.log);
  }

  /** Start listening; resolves once bound. */
  static async listen(options: TlsListenOptions): Promise<TlsListener> {
    const server = net.createServer();
    const listener = new TlsListener(server, options);
    server.on("connection", (raw: net.Socket) => listener.#onRaw(raw));
    server.on(
      "error",
      (error: Error) => options.log(`listener error: ${error.message}`),
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.hostname, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address() as { address: string; port: number };
    listener.#address = {
      hostname: normalizeAddress(addr.address),
      port: addr.port,
    };
    return listener;
  }

  /** The bound address (the real port when 0 was asked for). */
  get addr(): { hostname: string; port: number } {
    return this.#address;
  }

  /** An address was cut off for input_flood: refuse it for --flood-penalty. */
  penalize(ip: string): void {
    this.#gate.penalize(ip);
  }

  /** An address logged in: it gets the room kept for known addresses. */
  remember(ip: string): void {
    this.#gate.remember(ip);
  }

  /**
   * An address at its cap whose oldest handshake has stalled for at least
   * minHandshakeMs loses that one instead of the new connection: a real
   * user behind the same address as a staller still gets in.
   */
  #evictStalled(ip: string): boolean {
    const oldest = this.#byIp.get(ip)?.[0];
    if (!oldest || Date.now() - oldest.at < this.#options.minHandshakeMs) {
      return false;
    }
    this.#refusals.count("stalled_handshake_evicted");
    oldest.ours = true;
    oldest.end();
    oldest.raw.destroy();
    return true;
  }

  #onRaw(raw: net.Socket): void {
    const ip = normalizeAddress(raw.remoteAddress ?? "unknown");
    let refusal = this.#closed ? null : this.#gate.refusal(ip);
    if (refusal === "address_handshakes" && this.#evictStalled(ip)) {
      refusal = this.#gate.refusal(ip);
    }
    if (refusal !== null || this.#closed) {
      if (refusal !== null) this.#refusals.count(refusal);
      raw.on("error", () => {});
      raw.destroy(); // no TLS object was made for it
      return;
    }
    const acceptedAt = Date.now();
    this.#pending.add(raw);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      this.#pending.delete(raw);
      this.#gate.ended(ip);
      const list = this.#byIp.get(ip)!;
      list.splice(list.indexOf(entry), 1);
      if (list.length === 0) this.#byIp.delete(ip);
    };
    const entry: PendingHandshake = { raw, at: acceptedAt, end, ours: false };
    const list = this.#byIp.get(ip);
    if (list) list.push(entry);
    else this.#byIp.set(ip, [entry]);
    const timer = setTimeout(() => {
      this.#refusals.count("handshake_timeout");
      entry.ours = true;
      raw.destroy();
    }, this.#gate.started(ip));
    let spoke = false;
    raw.once("close", () => {
      // connect-and-close churn: the address is penalized past a budget
      if (!spoke && !entry.ours && !this.#closed) this.#gate.silentClose(ip);
      end();
    });
    raw.on("error", () => {});
    // no TLS object (~14 kB each, measured) until the peer says something:
    // a connection that closes or stalls without a byte costs only its socket
    raw.once("data", (hello: Uint8Array) => {
      spoke = true;
      raw.pause();
      raw.unshift(hello);
      this.#startTls(raw, end, acceptedAt);
    });
  }

  /** Wrap an admitted raw socket in a server TLSSocket; hand it on once secure. */
  #startTls(raw: net.Socket, end: () => void, acceptedAt: number): void {
    const socket = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: this.#context,
    });
    socket.on("error", () => {
      end();
      socket.destroy();
      raw.destroy();
    });
    socket.once("secure", () => {
      end();
      this.#secured(socket, raw, acceptedAt);
    });
    // no raw.resume() here: the TLSSocket takes over reading (measured: a
    // resume at this point loses the hello)
  }

  #secured(socket: tls.TLSSocket, raw: net.Socket, acceptedAt: number): void {
    if (this.#closed) {
      socket.destroy();
      raw.destroy();
      return;
    }
    const conn = new TlsByteStream(
      socket,
      raw,
      this.#options.input,
      acceptedAt,
    );
    const waiter = this.#waiters.shift();
    if (waiter) waiter(conn);
    else this.#queue.push(conn);
  }

  /** The next connection whose handshake completed; null once closed. */
  accept(): Promise<TlsByteStream | null> {
    const ready = this.#queue.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Stop accepting and drop connections still in their handshake. Resolves
   * at once; `closed` resolves when the last accepted connection has ended
   * too (node's server closes only then), so close those first.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const wake of this.#waiters.splice(0)) wake(null);
    for (const conn of this.#queue.splice(0)) conn.close();
    this.#server.close(() => this.#fullyClosed.resolve());
    for (const raw of this.#pending) raw.destroy();
    this.#refusals.flush();
  }

  /** Resolves when the listener and every connection it accepted are closed. */
  get closed(): Promise<void> {
    return this.#fullyClosed.promise;
  }
}
