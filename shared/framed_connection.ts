/**
 * A byte stream (a TLS connection) seen as frames: reads are split into
 * frame bodies, and writes are queued, bounded in bytes, held to a write
 * deadline, and coalesced so that every frame produced in one
 * event-loop turn goes out in a single write (fewer TLS records; on the
 * client, whose Deno TlsConn has no setNoDelay, fewer writes waiting on Nagle).
 * @module
 */
import { FrameDecoder } from "./codec.ts";
import { concatBytes } from "./bytes.ts";

/** The three calls this module needs from a connection (Deno.Conn has them). */
export interface ByteStream {
  read(buffer: Uint8Array): Promise<number | null>;
  /**
   * The next chunk as it arrived, without copying it into a buffer of ours
   * (null at end of stream). Streams that have it spare every connection a
   * read buffer of its own; others are read through a shared-size buffer.
   */
  readChunk?(): Promise<Uint8Array | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

/** Read buffer for streams without readChunk (a TLS record is at most 16 KiB). */
const READ_BUFFER_BYTES = 16 * 1024;

/** Where frames for one peer go. `send` returns false once the peer is gone. */
export interface FrameSink {
  send(frame: Uint8Array): boolean;
  close(): void;
  /** Bytes queued but not yet written. */
  readonly queuedBytes: number;
  /** Resolves when everything queued so far is written (or the peer is gone). */
  drain(): Promise<void>;
  /** Whether `send` would accept a frame of `length` bytes now. */
  fits(length: number): boolean;
}

/** Limits for one connection. */
export interface ConnectionLimits {
  maxFrameBytes: number;
  /** Bytes that may wait to be written before the peer counts as a slow consumer. */
  maxQueueBytes: number;
  /** A single write that takes longer than this drops the peer (it is not reading). */
  writeTimeoutMs?: number;
}

/** A drain() caller: woken once `until` bytes have been written in total. */
type DrainWaiter = { until: number; wake: () => void };

/** Frame reading and coalesced, bounded writing over one byte stream. */
export class FramedConnection implements FrameSink {
  readonly conn: ByteStream;
  #decoder: FrameDecoder;
  #limits: ConnectionLimits;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #flushing = false;
  #closed = false;
  #onDrop: (reason: string) => void;
  /** Bytes of frames queued / written since the connection opened. */
  #queuedTotal = 0;
  #writtenTotal = 0;
  /** Queued bytes as counted against the cap (see send). */
  #chargedBytes = 0;
  /** Frames over half the queue waiting or being written (at most one). */
  #oversizedQueued = 0;
  #drainWaiters: DrainWaiter[] = [];
  /** performance.now() when the write in flight began; null when none is. */
  #writeStartedAt: number | null = null;
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;

  /** Wrap `conn`; `onDrop` is told why the connection was dropped by us. */
  constructor(
    conn: ByteStream,
    limits: ConnectionLimits,
    onDrop: (reason: string) => void = () => {},
  ) {
    this.conn = conn;
    this.#limits = limits;
    this.#decoder = new FrameDecoder(limits.maxFrameBytes);
    this.#onDrop = onDrop;
  }

  /** Bytes queued but not yet written. */
  get queuedBytes(): number {
    return this.#pendingBytes;
  }

  /** Accept frame bodies up to `bytes` from now on (checked from each header). */
  setMaxFrameBytes(bytes: number): void {
    this.#decoder.maxFrameBytes = bytes;
  }

  /** True once close() ran or the peer went away. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Frame bodies as they arrive; ends when the peer closes. Throws ProtocolError on a bad header. */
  async *bodies(): AsyncGenerator<Uint8Array> {
    const read = this.#chunkReader();
    while (!this.#closed) {
      let chunk: Uint8Array | null;
      try {
        chunk = await read();
      } catch {
        return;
      }
      if (chunk === null) return;
      yield* this.#decoder.pushBodies(chunk);
    }
  }

  /** Chunks straight from the stream, or read into one buffer allocated here. */
  #chunkReader(): () => Promise<Uint8Array | null> {
    const conn = this.conn;
    if (conn.readChunk) return () => conn.readChunk!();
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    return async () => {
      const n = await conn.read(buffer);
      return n === null ? null : buffer.subarray(0, n);
    };
  }

  /**
   * Queue a frame; false if the connection is closed or just got dropped
   * for a full queue. A frame larger than half the queue (a big room's
   * roster) is charged as half of it, and only one such frame may wait at a
   * time: it can be sent whenever the queue is at most half full, and the
   * small frames that follow it (presence, messages) always have the other
   * half. So the queue holds at most `maxQueueBytes`, or one oversized frame
   * and half the queue. Callers with big frames check `fits` and `drain`.
   */
  send(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    if (!this.fits(frame.length)) {
      this.#onDrop("send queue full (slow consumer)");
      this.close();
      return false;
    }
    this.#pendingBytes += frame.length;
    this.#chargedBytes += this.#charge(frame.length);
    if (this.#oversized(frame.length)) this.#oversizedQueued++;
    this.#queuedTotal += frame.length;
    this.#pending.push(frame);
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
    return true;
  }

  /** Whether a frame of `length` bytes would be accepted now (true once closed: send just returns false). */
  fits(length: number): boolean {
    if (this.#closed) return true;
    if (this.#oversized(length) && this.#oversizedQueued > 0) return false;
    return this.#chargedBytes + this.#charge(length) <=
      this.#limits.maxQueueBytes;
  }

  #oversized(length: number): boolean {
    return length > this.#limits.maxQueueBytes / 2;
  }

  /** What a frame of `length` bytes counts against the queue cap. */
  #charge(length: number): number {
    return Math.min(length, this.#limits.maxQueueBytes / 2);
  }

  async #flush(): Promise<void> {
    try {
      while (this.#pending.length > 0 && !this.#closed) {
        const chunks = this.#pending;
        this.#pending = [];
        const bytes = chunks.length === 1 ? chunks[0]! : concatBytes(...chunks);
        let written = 0;
        while (written < bytes.length) {
          this.#writeStartedAt = performance.now();
          this.#armWriteDeadline();
          written += await this.conn.write(bytes.subarray(written));
        }
        this.#pendingBytes -= bytes.length;
        for (const chunk of chunks) {
          this.#chargedBytes -= this.#charge(chunk.length);
          if (this.#oversized(chunk.length)) this.#oversizedQueued--;
        }
        this.#writtenTotal += bytes.length;
        this.#wakeDrainWaiters();
      }
    } catch {
      this.close();
    } finally {
      this.#writeStartedAt = null;
      this.#flushing = false;
      this.#wakeDrainWaiters();
    }
  }

  /** Wake the drain() callers whose bytes are all written (all of them once closed). */
  #wakeDrainWaiters(): void {
    if (this.#drainWaiters.length === 0) return;
    const waiting: DrainWaiter[] = [];
    for (const waiter of this.#drainWaiters) {
      if (this.#closed || waiter.until <= this.#writtenTotal) waiter.wake();
      else waiting.push(waiter);
    }
    this.#drainWaiters = waiting;
  }

  /**
   * The write deadline: one timer per connection, armed only while a write
   * is in flight and re-armed for what is left when it fires early (a
   * timer per write would cost more than the write itself at high fan-out).
   * After the last write completes the timer stays pending until it fires
   * (at most writeTimeoutMs later), finds no write in flight and stops.
   */
  #armWriteDeadline(): void {
    const limit = this.#limits.writeTimeoutMs;
    if (limit === undefined || this.#deadlineTimer !== undefined) return;
    const check = () => {
      this.#deadlineTimer = undefined;
      const started = this.#writeStartedAt;
      if (started === null || this.#closed) return;
      const waited = performance.now() - started;
      if (waited >= limit) {
        this.#onDrop(
          `write deadline of ${limit} ms passed (the peer is not reading)`,
        );
        this.close();
        return;
      }
      this.#deadlineTimer = setTimeout(check, limit - waited);
    };
    this.#deadlineTimer = setTimeout(check, limit);
  }

  /**
   * Wait until every frame queued so far has been handed to the socket (or
   * the connection closed); frames queued after this call are not waited for.
   */
  drain(): Promise<void> {
    const until = this.#queuedTotal;
    if (this.#closed || this.#writtenTotal >= until) return Promise.resolve();
    return new Promise((wake) => this.#drainWaiters.push({ until, wake }));
  }

  /** Close the socket (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    this.#wakeDrainWaiters();
    try {
      this.conn.close();
    } catch {
      // already closed by the peer
    }
  }
}
