/**
 * One simulated client of the bare relay (bench/bare_relay.ts): a TLS
 * connection that sends fixed-size lines and counts the lines it receives.
 * Observers and the pacer read each line's header (sender, sequence, send
 * time); everyone else only counts newlines.
 * @module
 */
import { FramedConnection } from "../shared/framed_connection.ts";
import { now } from "./clock.ts";
import { relayLine } from "./payload.ts";
import type { MemberSpec, WorkerContext } from "./worker_context.ts";
import { connectLoopbackTls } from "./tls_connect.ts";

/** What every relay client of a worker shares. */
export interface RelaySetup {
  port: number;
  caPem: string;
  /** Bytes per line, newline included (the size of the chat server's relayed frame). */
  lineBytes: number;
  readBufferBytes: number;
}

const HEADER_BYTES = 48;
const encoder = new TextEncoder();

/** One connection to the relay. */
export class RelayMember {
  readonly spec: MemberSpec;
  readonly name: string;
  sentMeasured = 0;
  readonly refusedMeasured = 0;
  #ctx: WorkerContext;
  #setup: RelaySetup;
  #out: FramedConnection | null = null;
  #closing = false;
  #reading: Promise<void> = Promise.resolve();
  #seq = 0;
  #carry: number[] = [];

  /** A client that has not connected yet. */
  constructor(
    spec: MemberSpec,
    name: string,
    ctx: WorkerContext,
    setup: RelaySetup,
  ) {
    this.spec = spec;
    this.name = name;
    this.#ctx = ctx;
    this.#setup = setup;
  }

  /** TLS connect and complete the handshake. */
  async connect(): Promise<void> {
    const conn = await connectLoopbackTls(this.#setup.port, this.#setup.caPem);
    this.#out = new FramedConnection(conn, {
      maxFrameBytes: 1,
      maxQueueBytes: 256 * 1024 * 1024,
    });
    this.#reading = this.#readLoop(conn);
  }

  /** Send one line now (the relay has no handshake beyond TLS). */
  send(due: number | null): Promise<void> {
    const started = now();
    if (due !== null) {
      this.#ctx.maxSendLagMs = Math.max(this.#ctx.maxSendLagMs, started - due);
    }
    const line = relayLine(
      this.name,
      this.#seq++,
      started,
      this.#setup.lineBytes,
    );
    this.#out?.send(encoder.encode(line));
    if (this.#ctx.measuring) this.sentMeasured++;
    return Promise.resolve();
  }

  /** Nothing is ever pending on a relay client. */
  settled(): Promise<void> {
    return Promise.resolve();
  }

  /** Close the connection (not counted as a disconnect). */
  async close(): Promise<void> {
    this.#closing = true;
    this.#out?.close();
    await this.#reading;
  }

  async #readLoop(conn: Deno.TlsConn): Promise<void> {
    const buf = new Uint8Array(this.#setup.readBufferBytes);
    const parses = this.spec.role === "observer" || this.spec.pacer;
    let failure = "the relay closed the connection";
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        const at = now();
        const chunk = buf.subarray(0, n);
        if (parses) this.#parseLines(chunk, at);
        else {
          let pos = chunk.indexOf(10);
          while (pos >= 0) {
            this.#ctx.countDelivery(at);
            pos = chunk.indexOf(10, pos + 1);
          }
        }
      }
    } catch (error) {
      failure = (error as Error).message;
    }
    this.#out?.close();
    if (!this.#closing) {
      this.#ctx.disconnects++;
      this.#ctx.error(`${this.name}: ${failure}`);
    }
  }

  #parseLines(chunk: Uint8Array, at: number): void {
    let pos = 0;
    while (true) {
      const nl = chunk.indexOf(10, pos);
      const stop = nl < 0 ? chunk.length : nl;
      const room = HEADER_BYTES - this.#carry.length;
      for (let i = pos; i < Math.min(stop, pos + room); i++) {
        this.#carry.push(chunk[i]!);
      }
      if (nl < 0) return;
      this.#ctx.countDelivery(at);
      const [name = "", , time = ""] = String.fromCharCode(...this.#carry)
        .split(" ");
      this.#carry = [];
      if (at >= this.#ctx.t0) {
        if (this.spec.pacer) this.#ctx.recordSeen(name);
        if (this.spec.role === "observer") {
          this.#ctx.latencies.push(at - Number.parseFloat(time));
        }
      }
      pos = nl + 1;
    }
  }
}
