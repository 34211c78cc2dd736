/**
 * The chat engine: one session that outlives connections. Per connection it
 * logs in, rejoins its rooms, catches up on what it missed and re-sends
 * unacknowledged messages with their original ids. It coordinates parts
 * with one job each (membership, sending, receiving, room sync, server
 * errors, pending requests) and reports ChatEvents; it knows nothing of
 * terminals.
 * @module
 */
import type { MessageKind } from "../shared/crypto/envelope.ts";
import type { Identity } from "../shared/crypto/identity.ts";
import type { ProtocolError } from "../shared/errors.ts";
import {
  type ByteStream,
  FramedConnection,
} from "../shared/framed_connection.ts";
import { userKey } from "../shared/names.ts";
import type { MemberInfo, ModFrame } from "../shared/protocol.ts";
import { Announcer } from "./announcer.ts";
import { createEngineContext, type EngineContext } from "./engine_context.ts";
import type { EventSink } from "./events.ts";
import { type FrameHandlers, frameRouter, readFrames } from "./frame_router.ts";
import { type LivenessTimes, watchLiveness } from "./liveness.ts";
import { Membership } from "./membership.ts";
import { MessageReceiver } from "./message_receiver.ts";
import { MessageSender, type SendResult } from "./message_sender.ts";
import { PeopleDirectory } from "./people.ts";
import { RoomRequests } from "./room_requests.ts";
import type { RoomTopic, RoomView } from "./room_view.ts";
import { RoomSync } from "./room_sync.ts";
import { type ConnectionOutcome, SessionLogin } from "./session_login.ts";
import { Transcript } from "./transcript.ts";
import type { TrustStore } from "./trust_store.ts";

export type { SendResult } from "./message_sender.ts";
export { INITIAL_HISTORY } from "./room_sync.ts";
export type { ConnectionOutcome } from "./session_login.ts";

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
  #requests: RoomRequests;
  #login: SessionLogin;
  #handlers: FrameHandlers;
  #current: string;
  #closing = false;
  #closed = Promise.withResolvers<void>();

  /** A session; call runConnection() with each new connection. */
  constructor(options: ChatClientOptions) {
    this.#options = options;
    this.#current = options.room;
    this.people = new PeopleDirectory(options.trust);
    this.#ctx = createEngineContext(options.identity, options.trust, {
      people: this.people,
      transcript: this.transcript,
      say: new Announcer(options.onEvent, userKey(options.identity.user)),
    });
    this.#sender = new MessageSender(this.#ctx, options.maxPending ?? 1000);
    this.#receiver = new MessageReceiver(this.#ctx, this.#sender);
    this.#sync = new RoomSync(this.#ctx);
    this.#membership = new Membership(this.#ctx);
    this.#requests = new RoomRequests(this.#ctx);
    this.#login = new SessionLogin(this.#ctx, {
      ...options,
      serverLabel: options.serverLabel ?? options.serverName,
    });
    this.#handlers = frameRouter({
      ctx: this.#ctx,
      login: this.#login,
      sender: this.#sender,
      receiver: this.#receiver,
      sync: this.#sync,
      membership: this.#membership,
      requests: this.#requests,
      startRoom: options.room,
      current: {
        get: () => this.#current,
        set: (room) => this.#current = room,
      },
    });
  }

  /** Resolves once logged in and in the first room; rejects if the first login fails. */
  get ready(): Promise<void> {
    return this.#login.ready;
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
    return this.#login.refusal;
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
      await readFrames(conn, this.#handlers, this.#ctx, () => liveness.heard());
    } catch (error) {
      if (!this.#closing) {
        this.#ctx.say.error(`connection failed: ${(error as Error).message}`);
      }
    } finally {
      liveness.stop();
      conn.close();
      this.#connectionEnded();
    }
    const outcome = this.#login.outcome(this.#closing);
    if (outcome === "refused") this.#sender.stop(false);
    return outcome;
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
  openDirect(user: string): Promise<string | null> {
    return this.#requests.openDirect(user);
  }

  /** The last topic seen in `room` (set by a member with /topic), if any. */
  topic(room: string): RoomTopic | undefined {
    return this.#ctx.rooms.get(room)?.topic;
  }

  /** Join `room` and make it current. */
  async join(room: string): Promise<void> {
    if (await this.#requests.join(room)) this.#current = room;
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
    return this.#requests.moderate(frame);
  }

  /** Ask the server for the room list; resolves once the rooms event was emitted. */
  listRooms(): Promise<void> {
    return this.#requests.listRooms();
  }

  /** Look up a user's public keys on the server; null if there is no such user. */
  lookup(user: string): Promise<MemberInfo | null> {
    return this.#requests.lookup(user);
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
    if (this.#closing || this.refusal) return;
    await this.#sender.whenCanSend();
  }

  /**
   * Resolves when every message sent so far is acknowledged and the server
   * has answered every request (a script's end of input), or the session
   * gave up.
   */
  async whenIdle(): Promise<void> {
    if (this.#closing || this.refusal) return;
    await this.#sender.whenEmpty();
    if (!this.#closing && !this.refusal) await this.#ctx.link.barrier();
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

  #connectionEnded(): void {
    this.#ctx.link.attach(null);
    for (const room of this.#ctx.rooms.values()) room.connectionLost();
    this.#sync.connectionEnded();
    this.#ctx.pending.giveUpAll(); // nobody may wait for that connection's answers
  }
}
