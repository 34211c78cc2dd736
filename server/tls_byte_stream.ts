/**
 * One accepted, handshaken TLS connection as the ByteStream the framing
 * layer reads. Measured in Deno 2.9.6: pause() on a TLSSocket does not stop
 * reading (855 MiB buffered in 5 s), pause() on the raw `node:net` socket
 * under it does. So backpressure pauses the raw socket, what is held is
 * bounded (READ_HIGH_WATER plus one TLS read), and every byte that arrives
 * is charged to the connection's byte and frame budgets (frames counted
 * from their length headers as they arrive); over either, the stream ends
 * and `inputRefusal` says why.
 * @module
 */
import type tls from "node:tls";
import type { Socket } from "node:net";
import type { ByteStream } from "../shared/framed_connection.ts";
import { TokenBucket } from "../shared/token_bucket.ts";
import {
  floodMessage,
  FrameCounter,
  type InputLimits,
  READ_HIGH_WATER,
} from "./input_budget.ts";

/** `::ffff:127.0.0.1` → `127.0.0.1`. */
export function normalizeAddress(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/** One accepted, handshaken TLS connection. */
export class TlsByteStream implements ByteStream {
  readonly remoteAddress: string;
  /** When the TCP connection was accepted (ms since epoch), before its handshake. */
  readonly acceptedAt: number;
  /** Why the stream was cut for sending too much; null while within budget. */
  inputRefusal: string | null = null;
  #socket: tls.TLSSocket;
  #raw: Socket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #wake: (() => void) | null = null;

  /** Wrap a handshaken socket (Nagle off) and the raw socket under it. */
  constructor(
    socket: tls.TLSSocket,
    raw: Socket,
    limits: InputLimits,
    acceptedAt = Date.now(),
  ) {
    this.#socket = socket;
    this.#raw = raw;
    this.acceptedAt = acceptedAt;
    this.remoteAddress = normalizeAddress(raw.remoteAddress ?? "unknown");
    raw.setNoDelay(true);
    const bytes = new TokenBucket(limits.bytesBurst, limits.bytesPerSecond);
    const frames = new TokenBucket(limits.framesBurst, limits.framesPerSecond);
    const counter = new FrameCounter();
    socket.on("data", (chunk: Uint8Array) => {
      if (this.#ended) return;
      if (!bytes.spend(chunk.length)) {
        this.#overBudget(floodMessage("bytes", limits));
        return;
      }
      if (!frames.spend(counter.count(chunk))) {
        this.#overBudget(floodMessage("frames", limits));
        return;
      }
      // a plain view of the Buffer's bytes: callers slice it as a Uint8Array
      this.#chunks.push(
        new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length),
      );
      this.#buffered += chunk.length;
      if (this.#buffered > READ_HIGH_WATER) raw.pause();
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

  /** Stop reading for good, drop what is held, end the stream. */
  #overBudget(reason: string): void {
    this.inputRefusal = reason;
    this.#raw.pause();
    this.#chunks = [];
    this.#buffered = 0;
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Read up to `buffer.length` bytes; null at end of stream. */
  async read(buffer: Uint8Array): Promise<number | null> {
    const chunk = await this.#next();
    if (chunk === null) return null;
    const n = Math.min(buffer.length, chunk.length);
    buffer.set(chunk.subarray(0, n));
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    this.#taken(n);
    return n;
  }

  /** The next chunk as the socket delivered it (no copy); null at end of stream. */
  async readChunk(): Promise<Uint8Array | null> {
    const chunk = await this.#next();
    if (chunk === null) return null;
    this.#chunks.shift();
    this.#taken(chunk.length);
    return chunk;
  }

  async #next(): Promise<Uint8Array | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    return this.#chunks[0]!;
  }

  #taken(bytes: number): void {
    this.#buffered -= bytes;
    if (
      this.#buffered <= READ_HIGH_WATER / 2 && this.#raw.isPaused() &&
      this.inputRefusal === null
    ) {
      this.#raw.resume();
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
    this.#raw.destroy();
    this.#notify();
  }
}
