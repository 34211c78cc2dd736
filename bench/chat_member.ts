/**
 * One simulated chat user over a real TLS connection, speaking the real
 * protocol the way client/chat_client.ts does: hello → signed login →
 * join, then it reads frames. A sender keeps the roster and hands sending
 * to its MessageSender; an observer keeps the roster and hands keys and
 * messages to its MessageObserver; everyone else only counts `msg` frames
 * from their first bytes (and answers the server's pings).
 * @module
 */
import { FramedConnection } from "../shared/framed_connection.ts";
import { loginFrame } from "../shared/login_frame.ts";
import { userKey } from "../shared/names.ts";
import { encodeClientFrame } from "../shared/client_frames.ts";
import { parseServerBody } from "../shared/server_frames.ts";
import type {
  ClientFrame,
  ErrorFrame,
  HelloFrame,
  JoinedFrame,
  MemberInfo,
  MessageFrame,
  PresenceFrame,
  ServerFrame,
} from "../shared/protocol.ts";
import { now } from "./clock.ts";
import { FrameScanner, frameType } from "./frame_scanner.ts";
import type { BenchIdentity } from "./identities.ts";
import { MessageObserver } from "./message_observer.ts";
import { MessageSender } from "./message_sender.ts";
import type { MemberSpec, WorkerContext } from "./worker_context.ts";
import { connectLoopbackTls } from "./tls_connect.ts";

/** What every chat member of a worker shares. */
export interface ChatSetup {
  port: number;
  caPem: string;
  /** The name bound into the login signature (a SAN of the certificate). */
  serverName: string;
  room: string | null;
  payloadBytes: number;
  decryptKey: CryptoKey;
  readBufferBytes: number;
}

/** `{"t":"msg"` — the hot path: one `msg` frame per delivery. */
function isMsg(buf: Uint8Array, start: number, length: number): boolean {
  return length > 10 && buf[start + 6] === 109 && buf[start + 7] === 115 &&
    buf[start + 8] === 103 && buf[start + 9] === 34 && buf[start + 5] === 34;
}

/** One simulated user on one connection. */
export class ChatMember {
  readonly spec: MemberSpec;
  readonly name: string;
  /** Roster version and members as this user knows them (senders and observers). */
  roster = 0;
  readonly members = new Map<string, MemberInfo>();
  #id: BenchIdentity;
  #ctx: WorkerContext;
  #setup: ChatSetup;
  #out: FramedConnection | null = null;
  #closing = false;
  #waiter: {
    types: string[];
    resolve: (frame: ServerFrame) => void;
    reject: (error: Error) => void;
  } | null = null;
  #reading: Promise<void> = Promise.resolve();
  #sender: MessageSender | null = null;
  #observer: MessageObserver | null = null;
  /** When the bytes being scanned were read (epoch ms). */
  #at = 0;
  #onFrameAt = (buf: Uint8Array, start: number, length: number) =>
    this.#onFrame(buf, start, length, this.#at);

  /** A user that has not connected yet. */
  constructor(
    spec: MemberSpec,
    id: BenchIdentity,
    ctx: WorkerContext,
    setup: ChatSetup,
  ) {
    this.spec = spec;
    this.#id = id;
    this.name = id.user;
    this.#ctx = ctx;
    this.#setup = setup;
    if (spec.role === "sender" && setup.room !== null) {
      this.#sender = new MessageSender({
        name: id.user,
        room: setup.room,
        signingKey: id.signingKey,
        payloadBytes: setup.payloadBytes,
        ctx,
        members: this.members,
        roster: () => this.roster,
        open: () => this.#out !== null && !this.#out.closed,
        write: (frame) => this.#write(frame),
      });
    }
    if (spec.role === "observer") {
      this.#observer = new MessageObserver(
        id.user,
        setup.decryptKey,
        this.members,
        ctx,
      );
    }
  }

  /** TLS connect, log in, and join the room (if any). Throws on any refusal. */
  async connect(): Promise<void> {
    const conn = await connectLoopbackTls(this.#setup.port, this.#setup.caPem);
    this.#out = new FramedConnection(conn, {
      maxFrameBytes: 64 * 1024 * 1024,
      maxQueueBytes: 256 * 1024 * 1024,
    });
    const hello = this.#expect("hello") as Promise<HelloFrame>;
    this.#reading = this.#readLoop(conn);
    const h = await hello;
    const welcome = this.#expect("welcome");
    this.#write(
      await loginFrame(this.#id, this.#setup.serverName, h, undefined),
    );
    await welcome;
    if (this.#setup.room !== null) {
      const joined = this.#expect("joined");
      this.#write({ t: "join", room: this.#setup.room });
      await joined;
    }
  }

  /** Messages of the measured phase queued to the socket (senders only). */
  get sentMeasured(): number {
    return this.#sender?.sentMeasured ?? 0;
  }
  set sentMeasured(n: number) {
    if (this.#sender) this.#sender.sentMeasured = n;
  }

  /** …and refused for good by the server. */
  get refusedMeasured(): number {
    return this.#sender?.refusedMeasured ?? 0;
  }

  /** Queue one message (senders only). */
  send(due: number | null): Promise<void> {
    return this.#sender?.send(due) ?? Promise.resolve();
  }

  /** Resolves when everything queued has been sent and every observed message processed. */
  async settled(): Promise<void> {
    await this.#sender?.settled();
    await this.#observer?.settled();
  }

  /** Close the connection (not counted as a disconnect). */
  async close(): Promise<void> {
    this.#closing = true;
    this.#out?.close();
    await this.#reading;
  }

  #write(frame: ClientFrame): void {
    this.#out?.send(encodeClientFrame(frame));
  }

  #expect(type: string): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      this.#waiter = { types: [type], resolve, reject };
    });
  }

  async #readLoop(conn: Deno.TlsConn): Promise<void> {
    const scanner = new FrameScanner(this.#setup.readBufferBytes);
    let failure = "the server closed the connection";
    try {
      while (true) {
        const n = await conn.read(scanner.space());
        if (n === null) break;
        this.#at = now();
        scanner.commit(n, this.#onFrameAt);
      }
    } catch (error) {
      failure = (error as Error).message;
    }
    this.#out?.close();
    this.#waiter?.reject(new Error(failure));
    this.#waiter = null;
    if (!this.#closing) {
      this.#ctx.disconnects++;
      this.#ctx.error(`${this.name}: ${failure}`);
    }
  }

  #onFrame(buf: Uint8Array, start: number, length: number, at: number): void {
    const role = this.spec.role;
    if (isMsg(buf, start, length)) {
      this.#ctx.countDelivery(at);
      if (role !== "observer" && !this.spec.pacer) return;
      const frame = parseServerBody(
        buf.subarray(start, start + length),
      ) as MessageFrame;
      if (this.spec.pacer && at >= this.#ctx.t0) {
        this.#ctx.recordSeen(frame.from);
      }
      if (role === "observer") {
        this.#observer?.message(frame, at);
      }
      return;
    }
    const type = frameType(buf, start, length);
    const keepsRoster = role !== "member";
    if (
      (type === "joined" || type === "presence") && !keepsRoster &&
      this.#waiter?.types.includes(type) !== true
    ) return; // big roster frames: a counting member need not read them
    if (type === "key" && role !== "observer") return;
    const frame = parseServerBody(buf.subarray(start, start + length));
    switch (frame.t) {
      case "ping":
        this.#ctx.pongs++;
        this.#write({ t: "pong", n: frame.n });
        return;
      case "joined":
        if (keepsRoster) this.#onJoined(frame);
        break;
      case "presence":
        if (keepsRoster) this.#onPresence(frame);
        return;
      case "key": {
        this.#observer?.key(frame);
        return;
      }
      case "ack":
        this.#sender?.acked(frame.id);
        return;
      case "error":
        this.#onError(frame);
        return;
    }
    if (this.#waiter?.types.includes(frame.t)) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.resolve(frame);
    }
  }

  #onJoined(frame: JoinedFrame): void {
    this.roster = frame.roster;
    this.#sender?.epochAtLeast(frame.epoch);
    this.members.clear();
    for (const m of frame.members) this.members.set(userKey(m.user), m);
  }

  #onPresence(frame: PresenceFrame): void {
    if (frame.event !== "join" && frame.event !== "leave") return;
    this.roster = frame.roster;
    if (frame.event === "join" && frame.member) {
      this.members.set(userKey(frame.user), frame.member);
    } else {
      this.members.delete(userKey(frame.user));
    }
  }

  #onError(frame: ErrorFrame): void {
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.reject(new Error(`${frame.code}: ${frame.message}`));
      return;
    }
    this.#ctx.error(
      `${this.name}: server error ${frame.code}: ${frame.message}`,
    );
    this.#sender?.refused(frame);
  }
}
