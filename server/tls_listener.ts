/**
 * The server's TLS listener, on `node:tls`. Measured in Deno 2.9.6:
 * `Deno.listenTls` cannot drop a client that never completes its handshake
 * (closing the TlsConn leaves the socket open until the peer leaves), and
 * its connections have no setNoDelay. `node:tls` has a handshake timeout
 * that really closes the socket, and sockets with setNoDelay(true). Each
 * accepted connection is offered as the ByteStream the framing layer reads.
 * @module
 */
import tls from "node:tls";
import type { Socket } from "node:net";
import type { ByteStream } from "../shared/framed_connection.ts";

/** Connections in their handshake at once, from all addresses together. */
const MAX_HANDSHAKES = 2048;

/** Above this many unread bytes a connection stops reading from the socket. */
const READ_HIGH_WATER = 256 * 1024;

/** One accepted, handshaken TLS connection. */
export class TlsByteStream implements ByteStream {
  readonly remoteAddress: string;
  /** When the TCP connection was accepted (ms since epoch), before its handshake. */
  readonly acceptedAt: number;
  #socket: tls.TLSSocket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #wake: (() => void) | null = null;

  /** Wrap a handshaken socket (Nagle off). */
  constructor(socket: tls.TLSSocket, acceptedAt = Date.now()) {
    this.#socket = socket;
    this.acceptedAt = acceptedAt;
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? "unknown");
    socket.setNoDelay(true);
    // The handshake timeout is over: without this its timer stays on the
    // socket and is refreshed by every write (~5 % of the server's CPU at
    // 500 members). Idle peers are the connection tracker's job.
    socket.setTimeout(0);
    socket.on("data", (chunk: Uint8Array) => {
      // a plain view of the Buffer's bytes: callers slice it as a Uint8Array
      // (Buffer.slice shares memory where Uint8Array.slice copies)
      this.#chunks.push(
        new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length),
      );
      this.#buffered += chunk.length;
      if (this.#buffered > READ_HIGH_WATER) socket.pause();
      this.#notify();
    });
    const end = () => {
      this.#ended = true;
      this.#notify();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Read up to `buffer.length` bytes; null at end of stream. */
  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const chunk = this.#chunks[0]!;
    const n = Math.min(buffer.length, chunk.length);
    buffer.set(chunk.subarray(0, n));
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    this.#taken(n);
    return n;
  }

  /** The next chunk as the socket delivered it (no copy); null at end of stream. */
  async readChunk(): Promise<Uint8Array | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const chunk = this.#chunks.shift()!;
    this.#taken(chunk.length);
    return chunk;
  }

  #taken(bytes: number): void {
    this.#buffered -= bytes;
    if (this.#buffered <= READ_HIGH_WATER / 2 && this.#socket.isPaused()) {
      this.#socket.resume();
    }
  }

  /** Write all of `bytes`; resolves once the socket has taken them. */
  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.#socket.destroyed) {
        reject(new Error("the connection is closed"));
        return;
      }
      this.#socket.write(bytes, (error) => {
        if (error) reject(error);
        else resolve(bytes.length);
      });
    });
  }

  /** Close the connection at once (no lingering). */
  close(): void {
    this.#ended = true;
    this.#socket.destroy();
    this.#notify();
  }
}

/** `::ffff:127.0.0.1` → `127.0.0.1`. */
function normalizeAddress(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/** How to listen. */
export interface TlsListenOptions {
  hostname: string;
  port: number;
  cert: string;
  key: string;
  /** A connection that has not completed its handshake by then is closed. */
  handshakeTimeoutMs: number;
  /** Connections per address still in their handshake; more are closed at once. */
  maxHandshakesPerIp: number;
  log: (line: string) => void;
}

/** A TLS listener with an async accept(), like Deno.Listener. */
export class TlsListener {
  #server: tls.Server;
  #queue: TlsByteStream[] = [];
  #waiters: ((conn: TlsByteStream | null) => void)[] = [];
  #closed = false;
  #handshaking = new Map<string, number>();
  /** `ip:port` of connections still in their handshake → their address and socket. */
  #pending = new Map<string, { ip: string; raw: Socket; at: number }>();
  #address: { hostname: string; port: number } = { hostname: "", port: 0 };
  #fullyClosed = Promise.withResolvers<void>();

  private constructor(server: tls.Server) {
    this.#server = server;
  }

  /** Start listening; resolves once bound. */
  static async listen(options: TlsListenOptions): Promise<TlsListener> {
    const server = tls.createServer({
      cert: options.cert,
      key: options.key,
      minVersion: "TLSv1.2",
      handshakeTimeout: options.handshakeTimeoutMs,
    });
    const listener = new TlsListener(server);
    server.on("connection", (raw: Socket) => listener.#onRaw(raw, options));
    server.on(
      "secureConnection",
      (socket: tls.TLSSocket) => listener.#onSecure(socket),
    );
    server.on(
      "tlsClientError",
      (_error: Error, socket: tls.TLSSocket) => socket.destroy(),
    );
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

  #onRaw(raw: Socket, options: TlsListenOptions): void {
    const ip = normalizeAddress(raw.remoteAddress ?? "unknown");
    const pending = (this.#handshaking.get(ip) ?? 0) + 1;
    if (
      pending > options.maxHandshakesPerIp ||
      this.#pending.size >= MAX_HANDSHAKES || this.#closed
    ) {
      raw.destroy(); // too many half-open handshakes from one address
      return;
    }
    this.#handshaking.set(ip, pending);
    const key = `${ip}:${raw.remotePort}`;
    this.#pending.set(key, { ip, raw, at: Date.now() });
    raw.once("close", () => this.#handshakeEnded(key));
  }

  /** A handshake finished (either way): it no longer counts as pending. */
  #handshakeEnded(key: string): void {
    const ip = this.#pending.get(key)?.ip;
    if (ip === undefined) return;
    this.#pending.delete(key);
    const n = (this.#handshaking.get(ip) ?? 1) - 1;
    if (n <= 0) this.#handshaking.delete(ip);
    else this.#handshaking.set(ip, n);
  }

  #onSecure(socket: tls.TLSSocket): void {
    const key = `${
      normalizeAddress(socket.remoteAddress ?? "unknown")
    }:${socket.remotePort}`;
    const acceptedAt = this.#pending.get(key)?.at ?? Date.now();
    this.#handshakeEnded(key);
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const conn = new TlsByteStream(socket, acceptedAt);
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
    for (const { raw } of this.#pending.values()) raw.destroy();
  }

  /** Resolves when the listener and every connection it accepted are closed. */
  get closed(): Promise<void> {
    return this.#fullyClosed.promise;
  }
}
