/**
 * One simulated chat user over a real TLS connection, speaking the real
 * protocol the way client/chat_client.ts does: hello → signed login →
 * join; a sender rotates its sender key (RSA-OAEP wrap + Ed25519 signature
 * for every member) whenever the roster changed, then seals each message
 * (HKDF → AES-256-GCM, signed) with shared/crypto; an observer unwraps keys
 * and verifies + decrypts every message to time it; everyone else only
 * counts `msg` frames (and answers the server's pings).
 * @module
 */
import { encodeFrame, type RawFrame } from "../shared/codec.ts";
import { FramedConnection } from "../shared/framed_connection.ts";
import { fromBase64Url, toBase64Url } from "../shared/bytes.ts";
import { signLogin } from "../shared/crypto/login.ts";
import {
  newSenderKey,
  type SenderKey,
  unwrapSenderKey,
  wrapSenderKey,
} from "../shared/crypto/sender_key.ts";
import {
  decodeBody,
  encodeBody,
  openMessage,
  sealMessage,
} from "../shared/crypto/envelope.ts";
import { userKey } from "../shared/names.ts";
import type {
  ErrorFrame,
  HelloFrame,
  JoinedFrame,
  KeyFrame,
  MemberInfo,
  MessageFrame,
  PresenceFrame,
} from "../shared/protocol.ts";
import { now } from "./clock.ts";
import { FrameScanner, frameType, parseFrame } from "./frame_scanner.ts";
import type { BenchIdentity } from "./identities.ts";
import { stampedText, stampOf } from "./payload.ts";
import type { MemberSpec, WorkerContext } from "./worker_context.ts";

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

const RETRYABLE = new Set(["stale_key", "replay"]);

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
  /** Messages of the measured phase queued to the socket (first transmissions). */
  sentMeasured = 0;
  /** …and refused for good by the server. */
  refusedMeasured = 0;
  #id: BenchIdentity;
  #ctx: WorkerContext;
  #setup: ChatSetup;
  #out: FramedConnection | null = null;
  #closing = false;
  #waiter: {
    types: string[];
    resolve: (frame: RawFrame) => void;
    reject: (error: Error) => void;
  } | null = null;
  #reading: Promise<void> = Promise.resolve();
  #nextEpoch = 1;
  #myKey: SenderKey | null = null;
  #myKeyRoster = -1;
  #counter = 0;
  #chain: Promise<void> = Promise.resolve();
  #pending = new Map<string, { text: string; tries: number }>();
  #keys = new Map<string, SenderKey>();
  #observing: Promise<void> = Promise.resolve();
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
  }

  /** TLS connect, log in, and join the room (if any). Throws on any refusal. */
  async connect(): Promise<void> {
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: this.#setup.port,
      caCerts: [this.#setup.caPem],
    });
    try {
      await conn.handshake();
    } catch (error) {
      conn.close();
      throw error;
    }
    this.#out = new FramedConnection(conn, {
      maxFrameBytes: 64 * 1024 * 1024,
      maxQueueBytes: 256 * 1024 * 1024,
    });
    const hello = this.#expect("hello") as Promise<unknown> as Promise<
      HelloFrame
    >;
    this.#reading = this.#readLoop(conn);
    const h = await hello;
    const sig = await signLogin(this.#id.signingKey, {
      server: this.#setup.serverName,
      session: h.session,
      nonce: fromBase64Url(h.nonce),
      uid: this.#id.uid,
      user: this.#id.user,
      idKey: this.#id.idKey,
      encKey: this.#id.encKey,
    });
    const welcome = this.#expect("welcome");
    this.#write({
      t: "login",
      user: this.#id.user,
      uid: this.#id.uid,
      server: this.#setup.serverName,
      idKey: toBase64Url(this.#id.idKey),
      encKey: toBase64Url(this.#id.encKey),
      sig: toBase64Url(sig),
    });
    await welcome;
    if (this.#setup.room !== null) {
      const joined = this.#expect("joined");
      this.#write({ t: "join", room: this.#setup.room });
      await joined;
    }
  }

  /** Queue one message (sealed in order, like the client's send chain). */
  send(due: number | null): Promise<void> {
    const done = this.#chain.then(() => this.#transmit(due, null));
    this.#chain = done.catch((error) => {
      this.#ctx.error(`${this.name}: send failed: ${(error as Error).message}`);
    });
    return this.#chain;
  }

  /** Resolves when everything queued has been sent and every observed message processed. */
  async settled(): Promise<void> {
    await this.#chain;
    await this.#observing;
  }

  /** Close the connection (not counted as a disconnect). */
  async close(): Promise<void> {
    this.#closing = true;
    this.#out?.close();
    await this.#reading;
  }

  async #transmit(due: number | null, resend: string | null): Promise<void> {
    const out = this.#out;
    if (!out || out.closed || this.#setup.room === null) return;
    if (this.#myKey === null || this.#myKeyRoster !== this.roster) {
      await this.#rotate();
    }
    const key = this.#myKey!;
    const started = now();
    if (due !== null) {
      this.#ctx.maxSendLagMs = Math.max(this.#ctx.maxSendLagMs, started - due);
    }
    const id = resend ?? crypto.randomUUID();
    const pending = resend ? this.#pending.get(resend) : undefined;
    const text = pending?.text ??
      stampedText(started, this.#setup.payloadBytes);
    const header = {
      room: this.#setup.room,
      sender: userKey(this.name),
      epoch: key.epoch,
      counter: this.#counter++,
      ts: Date.now(),
    };
    const sealed = await sealMessage(
      key,
      header,
      encodeBody({ kind: "text", text }),
      this.#id.signingKey,
    );
    this.#write({
      t: "msg",
      id,
      room: header.room,
      epoch: header.epoch,
      counter: header.counter,
      ts: header.ts,
      iv: toBase64Url(sealed.iv),
      ct: toBase64Url(sealed.ct),
      sig: toBase64Url(sealed.sig),
    });
    if (!pending) {
      this.#pending.set(id, { text, tries: 0 });
      if (this.#ctx.measuring) this.sentMeasured++;
    }
  }

  /** New sender key wrapped for every member, exactly as the client's #rotate. */
  async #rotate(): Promise<void> {
    const room = this.#setup.room!;
    const roster = this.roster;
    const key = newSenderKey(room, this.name, this.#nextEpoch++);
    const wraps = await Promise.all(
      [...this.members.values()].map(async (m) =>
        wrapSenderKey(
          key,
          roster,
          {
            user: userKey(m.user),
            encryptKey: await this.#ctx.encryptKey(m.encKey),
          },
          this.#id.signingKey,
        )
      ),
    );
    this.#write({ t: "keys", room, epoch: key.epoch, roster, wraps });
    this.#myKey = key;
    this.#myKeyRoster = roster;
    this.#counter = 0;
  }

  #write(frame: Record<string, unknown> & { t: string }): void {
    this.#out?.send(encodeFrame(frame));
  }

  #expect(type: string): Promise<RawFrame> {
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
      const frame = parseFrame<MessageFrame>(buf, start, length);
      if (this.spec.pacer && at >= this.#ctx.t0) {
        this.#ctx.recordSeen(frame.from);
      }
      if (role === "observer") {
        this.#observing = this.#observing.then(() => this.#observe(frame, at));
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
    const frame = parseFrame<RawFrame>(buf, start, length);
    switch (frame.t) {
      case "ping":
        this.#ctx.pongs++;
        this.#write({ t: "pong", n: frame.n });
        return;
      case "joined":
        if (keepsRoster) this.#onJoined(frame as unknown as JoinedFrame);
        break;
      case "presence":
        if (keepsRoster) this.#onPresence(frame as unknown as PresenceFrame);
        return;
      case "key": {
        const key = frame as unknown as KeyFrame;
        this.#observing = this.#observing.then(() => this.#onKey(key));
        return;
      }
      case "ack":
        this.#pending.delete(String(frame.id));
        return;
      case "error":
        this.#onError(frame as unknown as ErrorFrame);
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
    this.#nextEpoch = Math.max(this.#nextEpoch, frame.epoch + 1);
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

  async #onKey(frame: KeyFrame): Promise<void> {
    const sender = this.members.get(userKey(frame.from));
    if (!sender) return this.#ctx.error(`${this.name}: key from a stranger`);
    try {
      const key = await unwrapSenderKey(
        frame,
        { user: userKey(this.name), decryptKey: this.#setup.decryptKey },
        await this.#ctx.verifyKey(sender.idKey),
      );
      this.#keys.set(`${key.sender}\u0000${key.epoch}`, key);
    } catch (error) {
      this.#ctx.error(`${this.name}: bad key: ${(error as Error).message}`);
    }
  }

  async #observe(frame: MessageFrame, at: number): Promise<void> {
    const from = userKey(frame.from);
    const key = this.#keys.get(`${from}\u0000${frame.epoch}`);
    const sender = this.members.get(from);
    if (!key || !sender) {
      return this.#ctx.error(`${this.name}: no key for a message of ${from}`);
    }
    try {
      const plain = await openMessage(key, {
        room: frame.room,
        sender: frame.from,
        epoch: frame.epoch,
        counter: frame.counter,
        ts: frame.ts,
      }, {
        iv: fromBase64Url(frame.iv),
        ct: fromBase64Url(frame.ct),
        sig: fromBase64Url(frame.sig),
      }, await this.#ctx.verifyKey(sender.idKey));
      const sentAt = stampOf(decodeBody(plain).text);
      if (at >= this.#ctx.t0) this.#ctx.latencies.push(at - sentAt);
    } catch (error) {
      this.#ctx.error(`${this.name}: ${(error as Error).message}`);
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
    if (frame.code === "stale_roster" || frame.code === "store_unavailable") {
      this.#myKey = null;
    }
    if (frame.code === "bad_epoch") {
      this.#nextEpoch = Math.max(this.#nextEpoch, (frame.epoch ?? 0) + 1);
      this.#myKey = null;
    }
    const pending = frame.id ? this.#pending.get(frame.id) : undefined;
    if (!frame.id || !pending) return;
    if (RETRYABLE.has(frame.code) && pending.tries < 5) {
      pending.tries++;
      this.#myKey = null;
      const id = frame.id;
      this.#chain = this.#chain.then(() => this.#transmit(null, id)).catch(
        (error) => this.#ctx.error(`${this.name}: ${(error as Error).message}`),
      );
      return;
    }
    this.#pending.delete(frame.id);
    if (this.#ctx.measuring) this.refusedMeasured++;
  }
}
