/**
 * The chat engine: one session that outlives connections. Per connection it
 * logs in, rejoins its rooms, catches up on what it missed and re-sends
 * unacknowledged messages with their original ids. It encrypts, decrypts,
 * rotates sender keys, and reports ChatEvents; it knows nothing of terminals.
 * @module
 */
import {
  decodeFrameBody,
  encodeFrame,
  type RawFrame,
} from "../shared/codec.ts";
import {
  type ByteStream,
  FramedConnection,
} from "../shared/framed_connection.ts";
import { fromBase64Url, toBase64Url, utf8 } from "../shared/bytes.ts";
import { CryptoError } from "../shared/errors.ts";
import { DEFAULT_LIMITS, PROTOCOL_VERSION } from "../shared/limits.ts";
import type { Identity } from "../shared/crypto/identity.ts";
import { signLogin } from "../shared/crypto/login.ts";
import {
  newSenderKey,
  unwrapSenderKey,
  wrapSenderKey,
} from "../shared/crypto/sender_key.ts";
import {
  decodeBody,
  encodeBody,
  type MessageBody,
  type MessageKind,
  openMessage,
  sealMessage,
} from "../shared/crypto/envelope.ts";
import { ReplayGuard } from "../shared/crypto/replay_guard.ts";
import { dmRoomName, userKey } from "../shared/names.ts";
import {
  type ClientFrame,
  type ErrorFrame,
  type HistoryEndFrame,
  type JoinedFrame,
  type KeyFrame,
  MAX_HISTORY_PAGE,
  type MemberInfo,
  type MessageFrame,
  type ModFrame,
  type PresenceFrame,
  type ServerFrame,
} from "../shared/protocol.ts";
import type { EventSink, MessageEvent } from "./events.ts";
import { Pacer } from "./pacer.ts";
import { roomLabel } from "./render.ts";
import { Outbox, type OutgoingMessage } from "./outbox.ts";
import { PeopleDirectory } from "./people.ts";
import { type Person, type RoomTopic, RoomView } from "./room_view.ts";
import { asServerFrame, serverFrameProblem } from "./server_frames.ts";
import { Transcript } from "./transcript.ts";
import type { TrustStore } from "./trust_store.ts";

/** How a ChatClient is set up. */
export interface ChatClientOptions {
  identity: Identity;
  /** Our formatted fingerprint, for the ready event. */
  fingerprint: string;
  trust: TrustStore;
  /** The host name we connect to (bound into the login signature). */
  serverName: string;
  /** The server as the user knows it (host:port), for the ready event; default serverName. */
  serverLabel?: string;
  /** Room to join after the first login. */
  room: string;
  onEvent: EventSink;
  /** Messages that may wait for acknowledgement at once (also while offline). */
  maxPending?: number;
  /** An invite secret to present at the first login. */
  invite?: string;
  /** Ping the server after this much silence (default 30 s)… */
  idlePingMs?: number;
  /** …and give up on the connection (and reconnect) after this much (default 75 s). */
  idleTimeoutMs?: number;
}

/** Whether send() queued the message or refused it (the reason was reported). */
export type SendResult = "queued" | "refused";

/** How one connection ended. */
export type ConnectionOutcome = "closed" | "lost" | "refused";

/** Messages shown as recent context when a room is first joined. */
export const INITIAL_HISTORY = 50;
const RETRYABLE = new Set(["stale_key", "replay"]);
/** Errors after which the session ends instead of reconnecting. */
const TERMINAL = new Set(["kicked", "banned"]);
const MAX_TRIES = 5;

/** One user's chat session with one server. */
export class ChatClient {
  readonly people: PeopleDirectory;
  readonly transcript = new Transcript();
  #options: ChatClientOptions;
  #me: string;
  #conn: FramedConnection | null = null;
  #rooms = new Map<string, RoomView>();
  #outbox: Outbox;
  #sendChain: Promise<void> = Promise.resolve();
  #guard = new ReplayGuard();
  #ready = Promise.withResolvers<void>();
  #everReady = false;
  #refusal: Error | null = null;
  #roomWaiters = new Map<string, ((joined: boolean) => void)[]>();
  #userWaiters = new Map<string, ((m: MemberInfo | null) => void)[]>();
  #loadWaiters = new Map<string, (count: number | null) => void>();
  /** ping number → wake: the server answers frames in order, so its pong means "all earlier answered". */
  #barriers = new Map<number, () => void>();
  #nextBarrier = 1;
  #maxTextBytes: number = DEFAULT_LIMITS.maxTextBytes;
  #current: string;
  #closing = false;
  #closed = Promise.withResolvers<void>();
  #refusedSends = 0;
  /** Paces messages to the rate the server announced (10 at once, 2/s until told). */
  #pacer = new Pacer(10, 2);
  /** Wakes a transmission waiting for the pacer when the session closes. */
  #pacing: { timer: ReturnType<typeof setTimeout>; wake: () => void } | null =
    null;
  /** user key → online as last shown: one presence line per person per change. */
  #shownOnline = new Map<string, boolean>();

  /** A session; call runConnection() with each new connection. */
  constructor(options: ChatClientOptions) {
    this.#options = options;
    this.#me = userKey(options.identity.user);
    this.#current = options.room;
    this.#outbox = new Outbox(options.maxPending ?? 1000);
    this.#pacer.setRate(10, 2); // the defaults, until a server tells its own
    this.people = new PeopleDirectory(options.trust);
    this.#ready.promise.catch(() => {});
  }

  /** Resolves once logged in and in the first room; rejects if the first login fails. */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** The room plain text goes to. */
  get currentRoom(): string {
    return this.#current;
  }

  /** The view of `room`, if joined. */
  room(name: string): RoomView | undefined {
    return this.#rooms.get(name);
  }

  /** Messages sent but not yet acknowledged. */
  get pendingCount(): number {
    return this.#outbox.size;
  }

  /** Messages the server refused for good (not retried). */
  get refusedSends(): number {
    return this.#refusedSends;
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.#conn !== null;
  }

  /** Why the server refused us, once it has. */
  get refusal(): Error | null {
    return this.#refusal;
  }

  /** Serve one connection until it ends; say how it ended. */
  async runConnection(stream: ByteStream): Promise<ConnectionOutcome> {
    if (this.#closing) {
      stream.close();
      return "closed";
    }
    const conn = new FramedConnection(stream, {
      // a relayed message fits the server's --max-frame-bytes (at most
      // 1 MiB); a big room's roster (`joined`, ~710 bytes per member) does not
      maxFrameBytes: 16 * 1024 * 1024,
      maxQueueBytes: 64 * 1024 * 1024,
    });
    this.#conn = conn;
    const liveness = this.#watchLiveness(conn);
    for (const room of this.#rooms.values()) {
      room.live = false;
      room.myKey = null;
      room.settleHistory();
    }
    try {
      for await (const body of conn.bodies()) {
        const raw = decodeFrameBody(body);
        const problem = serverFrameProblem(raw);
        if (problem) {
          this.#error(`ignored a malformed frame from the server (${problem})`);
          continue;
        }
        liveness.heard();
        await this.#onFrame(asServerFrame(raw));
      }
    } catch (error) {
      if (!this.#closing) {
        this.#error(`connection failed: ${(error as Error).message}`);
      }
    } finally {
      liveness.stop();
      conn.close();
      this.#conn = null;
      for (const room of this.#rooms.values()) room.live = false;
      this.#wakeWaiters();
    }
    if (this.#closing) return "closed";
    if (this.#refusal) {
      this.#ready.reject(this.#refusal);
      this.#outbox.wakeAll();
      return "refused";
    }
    if (!this.#everReady) {
      this.#ready.reject(
        new Error("the server closed the connection during login"),
      );
    }
    return "lost";
  }

  /**
   * Send text (or a /me action, or a topic) to the current room or `room`.
   * "refused" (with the reason reported) when it was not queued: the caller
   * keeps the text, e.g. back in the input line.
   */
  send(
    text: string,
    kind: MessageKind = "text",
    room = this.#current,
  ): SendResult {
    if (!this.#rooms.has(room)) {
      this.#error(`you are not in ${this.#label(room)}; /join a room first`);
      return "refused";
    }
    const size = utf8(text).length;
    if (size > this.#maxTextBytes) {
      this.#error(
        `message not sent: ${size} bytes is over the ${this.#maxTextBytes}-byte limit`,
      );
      return "refused";
    }
    const message = this.#outbox.add(room, { kind, text });
    if (!message) {
      this.#error(
        "message not sent: too many messages await the server; slow down",
      );
      return "refused";
    }
    if (!this.#conn) {
      this.#system(
        `not connected: message queued (${this.#outbox.size} waiting)`,
      );
    }
    this.#queueTransmit();
    return "queued";
  }

  /** Send a direct message to `user`, opening the DM room first if needed. */
  async sendDirect(user: string, text: string): Promise<SendResult> {
    const room = await this.openDirect(user);
    if (room === null) return "refused"; // the error was reported
    return this.send(text, "text", room);
  }

  /**
   * Open (or find) the direct-message room with `user`; resolves its name,
   * or null when the server refused (the error was reported).
   */
  async openDirect(user: string): Promise<string | null> {
    const room = dmRoomName(this.#me, user);
    if (this.#rooms.has(room)) return room;
    const opened = this.#waitForRoom(room);
    this.#write({ t: "dm", user });
    return await opened ? room : null;
  }

  /** The last topic seen in `room` (set by a member with /topic), if any. */
  topic(room: string): RoomTopic | undefined {
    return this.#rooms.get(room)?.topic;
  }

  /** Join `room` and make it current. */
  async join(room: string): Promise<void> {
    const joined = this.#waitForRoom(room);
    this.#write({ t: "join", room });
    if (await joined) {
      this.#current = room;
      const size = this.#rooms.get(room)!.members.size;
      this.#system(
        `now talking in ${this.#label(room)} (${size} member${
          size === 1 ? "" : "s"
        })`,
      );
    }
  }

  /** Make an already-joined room current. */
  switchTo(room: string): boolean {
    if (!this.#rooms.has(room)) return false;
    this.#current = room;
    return true;
  }

  /** Leave `room` for good. */
  leave(room: string): void {
    this.#write({ t: "leave", room });
  }

  /** Give every room `user` is in a fresh sender key on the next send (after /verify). */
  rekeyRoomsWith(user: string): void {
    const key = userKey(user);
    for (const room of this.#rooms.values()) {
      if (room.members.has(key)) room.myKey = null;
    }
  }

  /**
   * Send a moderation request; resolves once the server has answered it
   * (with notices or an error, already reported).
   */
  moderate(frame: ModFrame): Promise<void> {
    this.#write(frame);
    return this.#barrier();
  }

  /** Ask the server for the room list; resolves once the rooms event was emitted. */
  listRooms(): Promise<void> {
    this.#write({ t: "list" });
    return this.#barrier();
  }

  /** Look up a user's public keys on the server; null if there is no such user. */
  lookup(user: string): Promise<MemberInfo | null> {
    if (!this.#conn) return Promise.resolve(null);
    const { promise, resolve } = Promise.withResolvers<MemberInfo | null>();
    const key = userKey(user);
    this.#userWaiters.set(key, [
      ...(this.#userWaiters.get(key) ?? []),
      resolve,
    ]);
    this.#write({ t: "lookup", user });
    return promise;
  }

  /**
   * Page back through `room`'s history: up to `limit` messages older than
   * the oldest one seen. Resolves how many came (0: nothing older).
   */
  async loadOlder(room: string, limit: number): Promise<number | null> {
    let view = this.#rooms.get(room);
    // typed (or piped) before the room's history arrived: wait for it
    while (view && this.#conn && view.historyMode !== null) {
      await view.whenHistoryIdle();
      view = this.#rooms.get(room);
    }
    if (!view || !this.#conn) {
      this.#error(
        view
          ? "not connected; try again when the connection is back"
          : `you are not in ${this.#label(room)}`,
      );
      return null;
    }
    view.historyMode = "load";
    const before = this.transcript.oldestSeq(room) ?? Number.MAX_SAFE_INTEGER;
    const { promise, resolve } = Promise.withResolvers<number | null>();
    this.#loadWaiters.set(room, resolve);
    this.#write({
      t: "history",
      room,
      before,
      limit: Math.min(limit, MAX_HISTORY_PAGE),
    });
    return await promise;
  }

  /**
   * Resolves once send() has room for one more message (the outbox holds
   * at most maxPending unacknowledged ones), or the session gave up. A
   * script waits here instead of having its lines refused.
   */
  async whenCanSend(): Promise<void> {
    if (this.#closing || this.#refusal) return;
    await this.#outbox.whenRoom();
  }

  /**
   * Resolves when every message sent so far is acknowledged and the server
   * has answered every request (a script's end of input), or the session
   * gave up.
   */
  async whenIdle(): Promise<void> {
    if (this.#closing || this.#refusal) return;
    await this.#outbox.whenEmpty();
    if (!this.#closing && !this.#refusal) await this.#barrier();
  }

  /** End the session: close the connection and stop waiting. */
  close(): void {
    this.#closing = true;
    if (this.#pacing) {
      clearTimeout(this.#pacing.timer);
      this.#pacing.wake();
      this.#pacing = null;
    }
    this.#conn?.close();
    this.#outbox.wakeAll();
    this.#closed.resolve();
  }

  /** True once close() was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Resolves when close() is called. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /**
   * A server that vanishes without closing the connection (a frozen host,
   * a dropped network) is noticed: ping when quiet, give up when silent.
   */
  #watchLiveness(conn: FramedConnection): { heard(): void; stop(): void } {
    const pingAfter = this.#options.idlePingMs ?? 30_000;
    const dropAfter = this.#options.idleTimeoutMs ?? 75_000;
    let lastHeard = Date.now();
    let pinged = false;
    const timer = setInterval(() => {
      const quiet = Date.now() - lastHeard;
      if (quiet >= dropAfter) {
        this.#system(
          `no answer from the server for ${Math.round(quiet / 1000)} s`,
        );
        conn.close();
      } else if (quiet >= pingAfter && !pinged) {
        pinged = true;
        conn.send(encodeFrame({ t: "ping", n: Date.now() }));
      }
    }, Math.max(50, Math.min(5000, pingAfter / 4)));
    return {
      heard() {
        lastHeard = Date.now();
        pinged = false;
      },
      stop() {
        clearInterval(timer);
      },
    };
  }

  // ---- sending ----------------------------------------------------------

  /**
   * One more message may go: the chain sends the oldest one not yet sent on
   * this connection, so a message sent again (after a stale key or the
   * rate) goes before the ones typed after it.
   */
  #queueTransmit(): void {
    this.#sendChain = this.#sendChain.then(() => this.#transmitOldest());
  }

  async #transmitOldest(): Promise<void> {
    const conn = this.#conn;
    if (!conn) return; // re-queued when a room is joined on the next one
    const message = this.#outbox.oldest((m) =>
      m.sentOn !== conn && (this.#rooms.get(m.room)?.live ?? true)
    );
    if (!message) return;
    try {
      await this.#transmit(message);
    } catch (error) {
      this.#refusedSends++;
      this.#outbox.delete(message.id);
      this.#error(`message not sent: ${(error as Error).message}`);
    }
  }

  async #transmit(message: OutgoingMessage): Promise<void> {
    if (!this.#outbox.get(message.id)) return; // acknowledged meanwhile
    const room = this.#rooms.get(message.room);
    if (!room) throw new Error(`you are no longer in ${message.room}`);
    if (!this.#conn || !room.live) return; // sent when the room is joined on a connection
    await this.#paced();
    const conn = this.#conn;
    if (!conn || !room.live || !this.#outbox.get(message.id)) return;
    if (room.needsRotation()) await this.#rotate(room);
    const key = room.myKey!;
    const header = {
      room: room.name,
      sender: this.#me,
      epoch: key.epoch,
      counter: room.counter++,
      // a re-sent message keeps the time it was first written
      ts: message.ts || Date.now(),
    };
    const sealed = await sealMessage(
      key,
      header,
      encodeBody(message.body),
      this.#options.identity.signingKey,
    );
    if (conn !== this.#conn) return; // the connection went away while sealing
    message.epoch = header.epoch;
    message.counter = header.counter;
    message.ts = header.ts;
    message.sentOn = conn;
    this.#write({
      t: "msg",
      id: message.id,
      room: room.name,
      epoch: header.epoch,
      counter: header.counter,
      ts: header.ts,
      iv: toBase64Url(sealed.iv),
      ct: toBase64Url(sealed.ct),
      sig: toBase64Url(sealed.sig),
    });
  }

  /**
   * Wait until the server's rate lets one more message go, then spend it.
   * Transmissions are chained, so the wait keeps them in typed order.
   */
  async #paced(): Promise<void> {
    let delay = this.#pacer.delay();
    while (delay > 0 && !this.#closing) {
      await new Promise<void>((wake) => {
        const timer = setTimeout(() => {
          this.#pacing = null;
          wake();
        }, delay);
        this.#pacing = { timer, wake };
      });
      delay = this.#pacer.delay();
    }
    this.#pacer.take();
  }

  /** New sender key for `room`, wrapped for every member we may encrypt to. */
  async #rotate(room: RoomView): Promise<void> {
    const key = newSenderKey(room.name, this.#me, room.nextEpoch++);
    // One roster version for the signatures and the frame, read before the
    // awaits: a presence arriving while wrapping must not split them.
    const roster = room.roster;
    const recipients = [...room.members.values()].filter((m) => {
      if (!this.#options.trust.isBlocked(m.key)) return true;
      this.#system(
        `not encrypting to ${m.user} in ${room.name}: their key changed after you verified it; /whois ${m.user} then /verify`,
        true,
      );
      return false;
    });
    const wraps = await Promise.all(recipients.map((m) =>
      wrapSenderKey(
        key,
        roster,
        { user: m.key, encryptKey: m.encryptKey },
        this.#options.identity.signingKey,
      )
    ));
    this.#write({
      t: "keys",
      room: room.name,
      epoch: key.epoch,
      roster,
      wraps,
    });
    room.myKey = key;
    // if the roster moved meanwhile, this key is stale and the next send rotates
    room.myKeyRoster = roster;
    room.counter = 0;
    room.addSenderKey(key);
  }

  // ---- receiving --------------------------------------------------------

  async #onFrame(frame: ServerFrame): Promise<void> {
    switch (frame.t) {
      case "hello":
        if (frame.v !== PROTOCOL_VERSION) {
          this.#refusal = new Error(
            `the server speaks protocol version ${frame.v} and this client ${PROTOCOL_VERSION}; upgrade the older one`,
          );
          this.#conn?.close();
          return;
        }
        if (frame.rateBurst !== undefined && frame.ratePerSecond) {
          this.#pacer.setRate(frame.rateBurst, frame.ratePerSecond);
        }
        return await this.#login(
          frame.session,
          frame.nonce,
          frame.maxTextBytes,
        );
      case "welcome":
        if (!this.#everReady && !frame.rooms.includes(this.#options.room)) {
          this.#write({ t: "join", room: this.#options.room });
        }
        return;
      case "joined":
        return await this.#onJoined(frame);
      case "left":
        return this.#onLeft(frame.room);
      case "presence":
        return await this.#onPresence(frame);
      case "key":
        return await this.#onKey(frame);
      case "msg":
        return await this.#onMessage(frame);
      case "ack":
        return this.#onAck(frame.id, frame.room, frame.seq);
      case "history_end":
        return this.#onHistoryEnd(frame);
      case "error":
        return this.#onError(frame);
      case "shutdown":
        return this.#system(`server: ${frame.message}`);
      case "notice":
        return this.#system(`server: ${frame.message}`);
      case "rooms":
        return this.#options.onEvent({
          type: "rooms",
          rooms: frame.rooms.map((r) => ({
            room: r.room,
            members: r.members,
            joined: r.joined,
            current: r.room === this.#current,
          })),
        });
      case "user": {
        const key = userKey(frame.member.user);
        for (const resolve of this.#userWaiters.get(key) ?? []) {
          resolve(frame.member);
        }
        this.#userWaiters.delete(key);
        return;
      }
      case "ping":
        this.#write({ t: "pong", n: frame.n });
        return;
      case "pong":
        this.#barriers.get(frame.n)?.();
        this.#barriers.delete(frame.n);
        return;
    }
  }

  async #login(
    session: string,
    nonce: string,
    maxTextBytes: number,
  ): Promise<void> {
    const id = this.#options.identity;
    this.#maxTextBytes = maxTextBytes;
    const sig = await signLogin(id.signingKey, {
      server: this.#options.serverName,
      session,
      nonce: fromBase64Url(nonce),
      uid: id.uid,
      user: id.user,
      idKey: id.idKey,
      encKey: id.encKey,
    });
    this.#write({
      t: "login",
      user: id.user,
      uid: id.uid,
      server: this.#options.serverName,
      idKey: toBase64Url(id.idKey),
      encKey: toBase64Url(id.encKey),
      sig: toBase64Url(sig),
      // an invite admits the key once; later logins need none
      ...(this.#options.invite && !this.#everReady
        ? { invite: this.#options.invite }
        : {}),
    });
  }

  async #onJoined(frame: JoinedFrame): Promise<void> {
    let room = this.#rooms.get(frame.room);
    if (!room) this.#rooms.set(frame.room, room = new RoomView(frame.room));
    room.roster = frame.roster;
    room.nextEpoch = Math.max(room.nextEpoch, frame.epoch + 1);
    room.members.clear();
    for (const member of frame.members) {
      const person = await this.#see(member, frame.room);
      if (!person) continue;
      room.members.set(person.key, person);
      this.#shownOnline.set(person.key, person.online);
    }
    const firstOnThisConnection = !room.live;
    room.live = true;
    if (!this.#everReady && frame.room === this.#options.room) {
      this.#everReady = true;
      this.#ready.resolve();
      this.#options.onEvent({
        type: "ready",
        user: this.#options.identity.user,
        fingerprint: this.#options.fingerprint,
        room: frame.room,
        server: this.#options.serverLabel ?? this.#options.serverName,
      });
    }
    if (firstOnThisConnection) {
      this.#requestSync(room);
      for (const _ of this.#outbox.unsentOn(room.name, this.#conn!)) {
        this.#queueTransmit();
      }
    }
    for (const wake of this.#roomWaiters.get(frame.room) ?? []) wake(true);
    this.#roomWaiters.delete(frame.room);
  }

  /** Ask for recent context (first time) or for everything missed (after a reconnect). */
  #requestSync(room: RoomView): void {
    if (room.syncedSeq === undefined) {
      room.historyMode = "initial";
      this.#write({
        t: "history",
        room: room.name,
        before: Number.MAX_SAFE_INTEGER,
        limit: INITIAL_HISTORY,
      });
    } else {
      room.historyMode = "after";
      room.catchUpCursor = room.syncedSeq;
      this.#write({
        t: "history",
        room: room.name,
        after: room.syncedSeq,
        limit: MAX_HISTORY_PAGE,
      });
    }
  }

  #onHistoryEnd(frame: HistoryEndFrame): void {
    const room = this.#rooms.get(frame.room);
    if (!room) return;
    const mode = room.historyMode;
    if (mode === "after") {
      if (frame.more) {
        this.#write({
          t: "history",
          room: room.name,
          after: room.catchUpCursor,
          limit: MAX_HISTORY_PAGE,
        });
        return;
      }
      room.syncedSeq = Math.max(room.syncedSeq ?? 0, frame.lastSeq);
    } else if (mode === "initial") {
      room.syncedSeq = Math.max(room.syncedSeq ?? 0, frame.lastSeq);
      this.#showHistoryBlock(room, "join", frame);
    } else if (mode === "load") {
      this.#showHistoryBlock(room, "load", frame);
      this.#loadWaiters.get(room.name)?.(frame.count);
      this.#loadWaiters.delete(room.name);
    }
    room.settleHistory();
  }

  /**
   * Show the history page just received as one block, oldest first, after
   * a header event; say how many older messages this client cannot read.
   */
  #showHistoryBlock(
    room: RoomView,
    reason: "join" | "load",
    frame: HistoryEndFrame,
  ): void {
    const block = room.historyBlock.sort((a, b) => a.seq - b.seq);
    room.historyBlock = [];
    const unreadable = frame.more ? 0 : this.#unreadableBelow(room.name, frame);
    if (reason === "join" && block.length === 0 && unreadable === 0) return;
    this.#options.onEvent({
      type: "history",
      room: room.name,
      reason,
      count: block.length,
      unreadable,
    });
    for (const event of block) this.#options.onEvent(event);
  }

  /** A history request ended early: show what it brought (it is in the transcript). */
  #flushHistoryBlock(room: RoomView): void {
    if (room.historyBlock.length === 0) return;
    const block = room.historyBlock.sort((a, b) => a.seq - b.seq);
    room.historyBlock = [];
    this.#options.onEvent({
      type: "history",
      room: room.name,
      reason: room.historyMode === "load" ? "load" : "join",
      count: block.length,
      unreadable: 0,
    });
    for (const event of block) this.#options.onEvent(event);
  }

  /**
   * Stored messages older than the oldest one we can read: sequence
   * numbers are gapless per room, so it is a subtraction.
   */
  #unreadableBelow(room: string, frame: HistoryEndFrame): number {
    const first = frame.firstSeq ?? 0;
    if (first <= 0) return 0;
    const oldest = this.transcript.oldestSeq(room) ?? frame.lastSeq + 1;
    return Math.max(0, oldest - first);
  }

  /**
   * We left: forget the room as a fresh process would not know it (keys,
   * transcript, replay state), so a later /join loads its history afresh
   * (the server sends every key again after a leave).
   */
  #onLeft(roomName: string): void {
    const view = this.#rooms.get(roomName);
    this.#rooms.delete(roomName);
    view?.settleHistory();
    this.transcript.forget(roomName);
    this.#guard.forgetRoom(roomName);
    if (this.#current !== roomName) {
      this.#system(`you left ${this.#label(roomName)}`);
      return;
    }
    const next = this.#rooms.keys().next().value;
    this.#current = next ?? this.#options.room;
    this.#system(
      next === undefined
        ? `you left ${
          this.#label(roomName)
        }; you are in no room now (/join a room)`
        : `you left ${this.#label(roomName)}; now talking in ${
          this.#label(next)
        }`,
    );
  }

  async #onPresence(frame: PresenceFrame): Promise<void> {
    const room = this.#rooms.get(frame.room);
    if (!room) return;
    const key = userKey(frame.user);
    if (frame.event === "join" || frame.event === "leave") {
      room.roster = frame.roster;
      if (frame.event === "join" && frame.member) {
        const person = await this.#see(frame.member, frame.room);
        if (person) room.members.set(key, person);
        else room.members.delete(key);
      } else {
        room.members.delete(key);
      }
      this.#options.onEvent({
        type: frame.event,
        room: frame.room,
        user: frame.user,
      });
      return;
    }
    const online = frame.event === "online";
    const member = room.members.get(key);
    if (member) member.online = online;
    // the server says it once per shared room: show it once per person
    if (this.#shownOnline.get(key) === online) return;
    this.#shownOnline.set(key, online);
    const rooms = [...this.#rooms.values()]
      .filter((r) => r.members.has(key))
      .map((r) => r.name);
    this.#options.onEvent({
      type: "presence",
      room: frame.room,
      rooms: rooms.includes(frame.room) ? rooms : [frame.room, ...rooms],
      user: frame.user,
      online,
    });
  }

  /**
   * Import a member's keys; null (with a warning) when they are unusable,
   * e.g. a small-order identity key registered before servers refused them:
   * that member is left out of the room's key distribution.
   */
  async #see(member: MemberInfo, room: string): Promise<Person | null> {
    let seen;
    try {
      seen = await this.people.see(member);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      this.#error(
        `ignoring ${member.user} in ${room}: their keys are unusable (${error.message}); nothing is encrypted to them`,
      );
      return null;
    }
    const { person, observation } = seen;
    if (observation === "changed" && person.key !== this.#me) {
      const blocked = this.#options.trust.isBlocked(person.key);
      this.#system(
        `WARNING: the key of ${person.user} (seen in ${room}) has CHANGED. ` +
          (blocked
            ? `You had verified them: nothing more is encrypted to them until you compare safety numbers again (/whois ${person.user}, then /verify).`
            : `Someone may be impersonating them. Compare safety numbers: /whois ${person.user}.`),
        true,
      );
    }
    return person;
  }

  async #onKey(frame: KeyFrame): Promise<void> {
    const room = this.#rooms.get(frame.room);
    const sender = this.people.get(frame.from);
    if (!room || !sender) return;
    try {
      room.addSenderKey(
        await unwrapSenderKey(frame, {
          user: this.#me,
          decryptKey: this.#options.identity.decryptKey,
        }, sender.verifyKey),
      );
    } catch (error) {
      this.#error(
        `ignored a key from ${frame.from}: ${(error as Error).message}`,
      );
    }
  }

  async #onMessage(frame: MessageFrame): Promise<void> {
    const room = this.#rooms.get(frame.room);
    if (!room) return;
    const history = frame.history === true;
    const catchingUp = history && room.historyMode === "after";
    if (catchingUp) {
      room.catchUpCursor = Math.max(room.catchUpCursor, frame.seq);
    }
    if (!history && room.historyMode === null && room.syncedSeq !== undefined) {
      room.syncedSeq = Math.max(room.syncedSeq, frame.seq);
    }
    const body = await this.#decrypt(room, frame);
    if (!body) return;
    const own = userKey(frame.from) === this.#me;
    if (own && this.#outbox.get(frame.id)) {
      // our message, committed before the ack could reach us: this is its ack
      this.#guard.checkHistory(
        frame.room,
        frame.from,
        frame.epoch,
        frame.counter,
        frame.seq,
      );
      this.#onAck(frame.id, frame.room, frame.seq);
      return;
    }
    // A stored message is named by (room, seq): whatever route brings it
    // again (catch-up after an interrupted catch-up, paging), show it once.
    if (this.transcript.has(frame.room, frame.seq)) return;
    if (!own && this.#options.trust.isIgnored(frame.from)) return;
    const verdict = history
      ? this.#guard.checkHistory(
        frame.room,
        frame.from,
        frame.epoch,
        frame.counter,
        frame.seq,
      )
      : this.#guard.checkLive(
        frame.room,
        frame.from,
        frame.epoch,
        frame.counter,
        frame.seq,
      );
    if (verdict === "redelivery") return;
    if (verdict === "replay") {
      this.#error(
        `rejected a replayed message from ${frame.from} in ${frame.room}`,
      );
      return;
    }
    const from = this.people.get(frame.from)?.user ?? frame.from;
    this.transcript.add(frame.room, {
      seq: frame.seq,
      ts: frame.ts,
      from,
      ...body,
    });
    if (body.kind === "topic") {
      room.noteTopic({ text: body.text, from, ts: frame.ts, seq: frame.seq });
    }
    const event: MessageEvent = {
      type: "message",
      room: frame.room,
      from,
      text: body.text,
      ts: frame.ts,
      seq: frame.seq,
      history: history && !catchingUp,
      own,
      kind: body.kind,
    };
    if (event.history && room.historyMode !== null) {
      room.historyBlock.push(event); // shown as one block at history_end
    } else {
      this.#options.onEvent(event);
    }
  }

  /** Verify and decrypt; reports and returns null on any failure. */
  async #decrypt(
    room: RoomView,
    frame: MessageFrame,
  ): Promise<MessageBody | null> {
    const sender = this.people.get(frame.from);
    const key = room.senderKey(frame.from, frame.epoch);
    if (!sender || !key) {
      this.#error(
        `cannot decrypt a message from ${frame.from} in ${frame.room}: no key was shared with you for it`,
      );
      return null;
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
      }, sender.verifyKey);
      return decodeBody(plain);
    } catch (error) {
      const reason = error instanceof CryptoError ? error.message : "malformed";
      this.#error(`rejected a message from ${frame.from}: ${reason}`);
      return null;
    }
  }

  #onAck(id: string, roomName: string, seq: number): void {
    const message = this.#outbox.get(id);
    if (!message) return;
    this.#outbox.delete(id);
    // The seq names the stored copy, which may be an earlier transmission
    // than the last one (the server deduplicates by id): already shown?
    if (this.transcript.has(roomName, seq)) return;
    this.#guard.checkHistory(
      roomName,
      this.#me,
      message.epoch,
      message.counter,
      seq,
    );
    const room = this.#rooms.get(roomName);
    if (room && room.historyMode === null && room.syncedSeq !== undefined) {
      room.syncedSeq = Math.max(room.syncedSeq, seq);
    }
    const from = this.#options.identity.user;
    this.transcript.add(roomName, {
      seq,
      ts: message.ts,
      from,
      ...message.body,
    });
    if (message.body.kind === "topic") {
      room?.noteTopic({ text: message.body.text, from, ts: message.ts, seq });
    }
    this.#options.onEvent({
      type: "message",
      room: roomName,
      from,
      text: message.body.text,
      ts: message.ts,
      seq,
      history: false,
      own: true,
      kind: message.body.kind,
    });
  }

  #onError(frame: ErrorFrame): void {
    if (
      !this.#everReady && frame.room === this.#options.room &&
      frame.code === "room_full"
    ) {
      // the room this session was started for cannot be joined: stop, do
      // not reconnect to be refused again
      this.#refusal = Object.assign(new Error(frame.message), {
        code: frame.code,
      });
      this.#conn?.close();
      return;
    }
    if (!this.#conn || (!this.#roomsLive() && !frame.id && !frame.room)) {
      // refused before we were in: a login failure
      this.#refusal = Object.assign(new Error(frame.message), {
        code: frame.code,
      });
      return;
    }
    if (TERMINAL.has(frame.code)) {
      // kicked or banned: reconnecting would only be refused again
      this.#refusal = Object.assign(new Error(frame.message), {
        code: frame.code,
      });
      this.#error(frame.message);
      this.#conn?.close();
      return;
    }
    const room = frame.room ? this.#rooms.get(frame.room) : undefined;
    if (frame.code === "stale_roster" && room) {
      room.myKey = null;
      return;
    }
    if (frame.code === "bad_epoch" && room) {
      room.nextEpoch = Math.max(room.nextEpoch, (frame.epoch ?? 0) + 1);
      room.myKey = null;
      return;
    }
    if (
      room?.historyMode &&
      (frame.code === "history_unavailable" || frame.code === "not_member")
    ) {
      // the history request failed: stop waiting for it
      this.#flushHistoryBlock(room);
      room.settleHistory();
      this.#loadWaiters.get(room.name)?.(null);
      this.#loadWaiters.delete(room.name);
    }
    if (frame.code === "store_unavailable" && room) {
      room.myKey = null; // the server may not have our key: send a new one next time
    }
    const message = frame.id ? this.#outbox.get(frame.id) : undefined;
    if (message && frame.code === "rate_limited") {
      // the user's other devices spent the server's tokens too: wait a
      // full interval and send it again; typed text is never dropped
      this.#pacer.empty();
      message.sentOn = null;
      this.#queueTransmit();
      return;
    }
    if (message && RETRYABLE.has(frame.code) && message.tries < MAX_TRIES) {
      message.tries++;
      if (room && room.myKey?.epoch === message.epoch) room.myKey = null;
      message.sentOn = null;
      this.#queueTransmit();
      return;
    }
    if (message) {
      this.#refusedSends++;
      this.#outbox.delete(message.id);
    }
    if (frame.code === "no_such_user" && this.#userWaiters.size > 0) {
      for (const waiters of this.#userWaiters.values()) {
        for (const resolve of waiters) resolve(null);
      }
      this.#userWaiters.clear();
      return; // the caller reports "no user named …"
    }
    if (frame.room && this.#roomWaiters.has(frame.room)) {
      // an answer about a room someone waits to join: it was not joined
      for (const wake of this.#roomWaiters.get(frame.room)!) wake(false);
      this.#roomWaiters.delete(frame.room);
    }
    if (
      ["no_such_user", "bad_room", "not_member", "bad_frame"].includes(
        frame.code,
      )
    ) {
      for (const waiters of this.#roomWaiters.values()) {
        for (const wake of waiters) wake(false);
      }
      this.#roomWaiters.clear();
    }
    this.#error(frame.message);
  }

  // ---- helpers -----------------------------------------------------------

  #roomsLive(): boolean {
    for (const room of this.#rooms.values()) if (room.live) return true;
    return this.#everReady;
  }

  /** Resolves true once `room` is joined, false if an error or disconnect came first. */
  #waitForRoom(room: string): Promise<boolean> {
    return new Promise((resolve) => {
      const waiters = this.#roomWaiters.get(room) ?? [];
      waiters.push(resolve);
      this.#roomWaiters.set(room, waiters);
    });
  }

  /**
   * Resolves once the server has answered every frame sent before this
   * call (it handles a connection's frames in order and pongs in turn), or
   * the connection ended.
   */
  #barrier(): Promise<void> {
    if (!this.#conn) return Promise.resolve();
    const n = this.#nextBarrier++;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#barriers.set(n, resolve);
    this.#write({ t: "ping", n });
    return promise;
  }

  /** A connection ended: nobody may wait for its answers. */
  #wakeWaiters(): void {
    for (const room of this.#rooms.values()) {
      this.#flushHistoryBlock(room);
      room.settleHistory();
    }
    for (const wake of this.#barriers.values()) wake();
    this.#barriers.clear();
    for (const waiters of this.#roomWaiters.values()) {
      for (const wake of waiters) {
        wake(false);
      }
    }
    this.#roomWaiters.clear();
    for (const waiters of this.#userWaiters.values()) {
      for (const wake of waiters) {
        wake(null);
      }
    }
    this.#userWaiters.clear();
    for (const wake of this.#loadWaiters.values()) wake(null);
    this.#loadWaiters.clear();
  }

  #write(frame: ClientFrame): void {
    if (!this.#conn) {
      this.#error("not connected; try again when the connection is back");
      return;
    }
    this.#conn.send(encodeFrame(frame as unknown as RawFrame));
  }

  /** How a room is named to the user: #general, dm bob. */
  #label(room: string): string {
    return roomLabel(room, this.#me);
  }

  #system(message: string, warning = false): void {
    this.#options.onEvent({
      type: "system",
      message,
      ...(warning ? { warning: true } : {}),
    });
  }

  #error(message: string): void {
    this.#options.onEvent({ type: "error", message });
  }
}
