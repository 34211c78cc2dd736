/**
 * The chat engine: one session that outlives connections. Per connection it
 * logs in, rejoins its rooms, catches up on what it missed and re-sends
 * unacknowledged messages with their original ids. It coordinates parts
 * with one job each (membership, sending, receiving, room sync, server
 * errors, pending requests) and reports ChatEvents; it knows nothing of
 * terminals.
 * @module
 */
import { decodeFrameBody } from "../shared/codec.ts";
import type { MessageKind } from "../shared/crypto/envelope.ts";
import type { Identity } from "../shared/crypto/identity.ts";
import { ProtocolError } from "../shared/errors.ts";
import {
  type ByteStream,
  FramedConnection,
} from "../shared/framed_connection.ts";
import { PROTOCOL_VERSION } from "../shared/limits.ts";
import { dmRoomName, userKey } from "../shared/names.ts";
import type {
  HelloFrame,
  JoinedFrame,
  MemberInfo,
  ModFrame,
  ServerFrame,
} from "../shared/protocol.ts";
import { Announcer } from "./announcer.ts";
import type { EngineContext } from "./engine_context.ts";
import type { EventSink } from "./events.ts";
import { type LivenessTimes, watchLiveness } from "./liveness.ts";
import { loginFrame } from "./login_frame.ts";
import { Membership } from "./membership.ts";
import { MessageReceiver } from "./message_receiver.ts";
import { MessageSender, type SendResult } from "./message_sender.ts";
import { PeopleDirectory } from "./people.ts";
import { PendingRequests } from "./pending_requests.ts";
import type { RoomTopic, RoomView } from "./room_view.ts";
import { RoomSync } from "./room_sync.ts";
import { asServerFrame, serverFrameProblem } from "./server_frames.ts";
import { handleServerError } from "./server_errors.ts";
import { ServerLink } from "./server_link.ts";
import { Transcript } from "./transcript.ts";
import type { TrustStore } from "./trust_store.ts";

export type { SendResult } from "./message_sender.ts";
export { INITIAL_HISTORY } from "./room_sync.ts";

/** How a ChatClient is set up. */
export interface ChatClientOptions extends LivenessTimes {
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
}

/** How one connection ended. */
export type ConnectionOutcome = "closed" | "lost" | "refused";

type FrameHandlers = {
  [T in ServerFrame["t"]]: (
    frame: Extract<ServerFrame, { t: T }>,
  ) => void | Promise<void>;
};

/** A joined room's waiters are keyed `room:NAME\0` (the \0 ends the name). */
const roomKey = (room: string) => `room:${room}\u0000`;

/** One user's chat session with one server. */
export class ChatClient {
  readonly people: PeopleDirectory;
  readonly transcript = new Transcript();
  #options: ChatClientOptions;
  #ctx: EngineContext;
  #sender: MessageSender;
  #receiver: MessageReceiver;
  #sync: RoomSync;
  #membership: Membership;
  #handlers: FrameHandlers;
  #ready = Promise.withResolvers<void>();
  #everReady = false;
  #refusal: ProtocolError | null = null;
  #current: string;
  #closing = false;
  #closed = Promise.withResolvers<void>();

  /** A session; call runConnection() with each new connection. */
  constructor(options: ChatClientOptions) {
    this.#options = options;
    this.#current = options.room;
    this.people = new PeopleDirectory(options.trust);
    const me = userKey(options.identity.user);
    const say = new Announcer(options.onEvent, me);
    const pending = new PendingRequests();
    const link = new ServerLink(
      pending,
      () => say.error("not connected; try again when the connection is back"),
    );
    this.#ctx = {
      me,
      identity: options.identity,
      trust: options.trust,
      people: this.people,
      transcript: this.transcript,
      rooms: new Map(),
      link,
      pending,
      say,
    };
    this.#sender = new MessageSender(this.#ctx, options.maxPending ?? 1000);
    this.#receiver = new MessageReceiver(this.#ctx, this.#sender);
    this.#sync = new RoomSync(this.#ctx);
    this.#membership = new Membership(this.#ctx);
    this.#handlers = this.#frameHandlers();
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
    return this.#ctx.rooms.get(name);
  }

  /** Messages sent but not yet acknowledged. */
  get pendingCount(): number {
    return this.#sender.pendingCount;
  }

  /** Messages the server refused for good (not retried). */
  get refusedSends(): number {
    return this.#sender.refusedCount;
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.#ctx.link.connected;
  }

  /** Why the server refused us (its error code and words), once it has. */
  get refusal(): ProtocolError | null {
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
    this.#ctx.link.attach(conn);
    for (const room of this.#ctx.rooms.values()) room.startConnection();
    const liveness = watchLiveness(
      conn,
      this.#options,
      (seconds) =>
        this.#ctx.say.system(`no answer from the server for ${seconds} s`),
    );
    try {
      await this.#readFrames(conn, () => liveness.heard());
    } catch (error) {
      if (!this.#closing) {
        this.#ctx.say.error(`connection failed: ${(error as Error).message}`);
      }
    } finally {
      liveness.stop();
      conn.close();
      this.#connectionEnded();
    }
    return this.#outcome();
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
    return this.#sender.send(room, { kind, text });
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
    const room = dmRoomName(this.#ctx.me, user);
    if (this.#ctx.rooms.has(room)) return room;
    const opened = this.#ctx.pending.wait(roomKey(room), false);
    this.#ctx.link.write({ t: "dm", user });
    return await opened ? room : null;
  }

  /** The last topic seen in `room` (set by a member with /topic), if any. */
  topic(room: string): RoomTopic | undefined {
    return this.#ctx.rooms.get(room)?.topic;
  }

  /** Join `room` and make it current. */
  async join(room: string): Promise<void> {
    const joined = this.#ctx.pending.wait(roomKey(room), false);
    this.#ctx.link.write({ t: "join", room });
    if (!await joined) return;
    this.#current = room;
    const size = this.#ctx.rooms.get(room)!.members.size;
    this.#ctx.say.system(
      `now talking in ${this.#ctx.say.label(room)} (${size} member${
        size === 1 ? "" : "s"
      })`,
    );
  }

  /** Make an already-joined room current. */
  switchTo(room: string): boolean {
    if (!this.#ctx.rooms.has(room)) return false;
    this.#current = room;
    return true;
  }

  /** Leave `room` for good. */
  leave(room: string): void {
    this.#ctx.link.write({ t: "leave", room });
  }

  /** Give every room `user` is in a fresh sender key on the next send (after /verify). */
  rekeyRoomsWith(user: string): void {
    const key = userKey(user);
    for (const room of this.#ctx.rooms.values()) {
      if (room.members.has(key)) room.invalidateKey();
    }
  }

  /**
   * Send a moderation request; resolves once the server has answered it
   * (with notices or an error, already reported).
   */
  moderate(frame: ModFrame): Promise<void> {
    this.#ctx.link.write(frame);
    return this.#ctx.link.barrier();
  }

  /** Ask the server for the room list; resolves once the rooms event was emitted. */
  listRooms(): Promise<void> {
    this.#ctx.link.write({ t: "list" });
    return this.#ctx.link.barrier();
  }

  /** Look up a user's public keys on the server; null if there is no such user. */
  lookup(user: string): Promise<MemberInfo | null> {
    if (!this.#ctx.link.connected) return Promise.resolve(null);
    const found = this.#ctx.pending.wait<MemberInfo | null>(
      `user:${userKey(user)}`,
      null,
    );
    this.#ctx.link.write({ t: "lookup", user });
    return found;
  }

  /**
   * Page back through `room`'s history: up to `limit` messages older than
   * the oldest one seen. Resolves how many came (0: nothing older).
   */
  loadOlder(room: string, limit: number): Promise<number | null> {
    return this.#sync.loadOlder(room, limit);
  }

  /**
   * Resolves once send() has room for one more message (the outbox holds
   * at most maxPending unacknowledged ones), or the session gave up. A
   * script waits here instead of having its lines refused.
   */
  async whenCanSend(): Promise<void> {
    if (this.#closing || this.#refusal) return;
    await this.#sender.whenCanSend();
  }

  /**
   * Resolves when every message sent so far is acknowledged and the server
   * has answered every request (a script's end of input), or the session
   * gave up.
   */
  async whenIdle(): Promise<void> {
    if (this.#closing || this.#refusal) return;
    await this.#sender.whenEmpty();
    if (!this.#closing && !this.#refusal) await this.#ctx.link.barrier();
  }

  /** End the session: close the connection and stop waiting. */
  close(): void {
    this.#closing = true;
    this.#sender.stop(true);
    this.#ctx.link.connection?.close();
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

  async #readFrames(conn: FramedConnection, heard: () => void): Promise<void> {
    for await (const body of conn.bodies()) {
      const raw = decodeFrameBody(body);
      const problem = serverFrameProblem(raw);
      if (problem) {
        this.#ctx.say.error(
          `ignored a malformed frame from the server (${problem})`,
        );
        continue;
      }
      heard();
      const frame = asServerFrame(raw);
      const handle = this.#handlers[frame.t] as (f: ServerFrame) => unknown;
      await handle(frame);
    }
  }

  #connectionEnded(): void {
    this.#ctx.link.attach(null);
    for (const room of this.#ctx.rooms.values()) room.connectionLost();
    this.#sync.connectionEnded();
    this.#ctx.pending.giveUpAll(); // nobody may wait for that connection's answers
  }

  #outcome(): ConnectionOutcome {
    if (this.#closing) return "closed";
    if (this.#refusal) {
      this.#ready.reject(this.#refusal);
      this.#sender.stop(false);
      return "refused";
    }
    if (!this.#everReady) {
      this.#ready.reject(
        new Error("the server closed the connection during login"),
      );
    }
    return "lost";
  }

  #frameHandlers(): FrameHandlers {
    const { say, link } = this.#ctx;
    return {
      hello: (f) => this.#onHello(f),
      welcome: (f) => {
        if (!this.#everReady && !f.rooms.includes(this.#options.room)) {
          link.write({ t: "join", room: this.#options.room });
        }
      },
      joined: (f) => this.#onJoined(f),
      left: (f) => {
        this.#current = this.#membership.onLeft(
          f.room,
          this.#current,
          this.#options.room,
        );
        this.#receiver.forgetRoom(f.room);
      },
      presence: (f) => this.#membership.onPresence(f),
      key: (f) => this.#receiver.onKey(f),
      msg: (f) => this.#receiver.onMessage(f),
      ack: (f) => this.#receiver.onAck(f.id, f.room, f.seq),
      history_end: (f) => this.#sync.onHistoryEnd(f),
      error: (f) =>
        handleServerError(f, {
          ctx: this.#ctx,
          sender: this.#sender,
          sync: this.#sync,
          everReady: this.#everReady,
          startRoom: this.#options.room,
          refuse: (error, close) => {
            this.#refusal = error;
            if (close) link.connection?.close();
          },
        }),
      shutdown: (f) => say.system(`server: ${f.message}`),
      notice: (f) => say.system(`server: ${f.message}`),
      rooms: (f) =>
        say.event({
          type: "rooms",
          rooms: f.rooms.map((r) => ({
            room: r.room,
            members: r.members,
            joined: r.joined,
            current: r.room === this.#current,
          })),
        }),
      user: (f) =>
        this.#ctx.pending.answer(`user:${userKey(f.member.user)}`, f.member),
      ping: (f) => void link.write({ t: "pong", n: f.n }),
      pong: (f) => link.pong(f.n),
    };
  }

  async #onHello(frame: HelloFrame): Promise<void> {
    if (frame.v !== PROTOCOL_VERSION) {
      this.#refusal = new ProtocolError(
        "version",
        `the server speaks protocol version ${frame.v} and this client ${PROTOCOL_VERSION}; upgrade the older one`,
      );
      this.#ctx.link.connection?.close();
      return;
    }
    this.#sender.adoptLimits(frame.maxTextBytes, {
      burst: frame.rateBurst,
      perSecond: frame.ratePerSecond,
    });
    // an invite admits the key once; later logins need none
    const invite = this.#everReady ? undefined : this.#options.invite;
    this.#ctx.link.write(
      await loginFrame(
        this.#options.identity,
        this.#options.serverName,
        frame,
        invite,
      ),
    );
  }

  async #onJoined(frame: JoinedFrame): Promise<void> {
    const { room, firstOnThisConnection } = await this.#membership.onJoined(
      frame,
    );
    if (!this.#everReady && frame.room === this.#options.room) {
      this.#everReady = true;
      this.#ready.resolve();
      this.#ctx.say.event({
        type: "ready",
        user: this.#options.identity.user,
        fingerprint: this.#options.fingerprint,
        room: frame.room,
        server: this.#options.serverLabel ?? this.#options.serverName,
      });
    }
    if (firstOnThisConnection) {
      this.#sync.requestSync(room);
      this.#sender.resumeRoom(room.name);
    }
    this.#ctx.pending.answer(roomKey(frame.room), true);
  }
}
