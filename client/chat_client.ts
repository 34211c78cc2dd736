/**
 * The chat engine of one connection: login, rooms, sender-key rotation,
 * encryption and decryption, acknowledgements. It talks to the server
 * through frames and to the user interface through ChatEvents; it knows
 * nothing about terminals.
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
import { DEFAULT_LIMITS } from "../shared/limits.ts";
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
  openMessage,
  sealMessage,
} from "../shared/crypto/envelope.ts";
import { ReplayGuard } from "../shared/crypto/replay_guard.ts";
import { dmRoomName, userKey } from "../shared/names.ts";
import type {
  ClientFrame,
  ErrorFrame,
  JoinedFrame,
  KeyFrame,
  MemberInfo,
  MessageFrame,
  PresenceFrame,
  ServerFrame,
} from "../shared/protocol.ts";
import type { EventSink } from "./events.ts";
import { PeopleDirectory } from "./people.ts";
import { RoomView } from "./room_view.ts";
import type { TrustStore } from "./trust_store.ts";

/** How a ChatClient is set up. */
export interface ChatClientOptions {
  identity: Identity;
  trust: TrustStore;
  /** The host name we connected to (bound into the login signature). */
  serverName: string;
  /** Room to join after login. */
  room: string;
  onEvent: EventSink;
  /** Messages that may wait for acknowledgement at once. */
  maxPending?: number;
}

interface PendingMessage {
  id: string;
  room: string;
  body: MessageBody;
  epoch: number;
  /** Timestamp of the last transmission (signed in the header). */
  ts: number;
  tries: number;
}

const RETRYABLE = new Set(["stale_key", "replay"]);
const MAX_TRIES = 5;

/** One logged-in conversation with the server. */
export class ChatClient {
  readonly people: PeopleDirectory;
  #conn: FramedConnection;
  #options: ChatClientOptions;
  #me: string;
  #rooms = new Map<string, RoomView>();
  #pending = new Map<string, PendingMessage>();
  #sendChain: Promise<void> = Promise.resolve();
  #guard = new ReplayGuard();
  #ready = Promise.withResolvers<void>();
  #idleWaiters: (() => void)[] = [];
  #roomWaiters = new Map<string, (() => void)[]>();
  #userWaiters = new Map<string, ((m: MemberInfo | null) => void)[]>();
  #maxTextBytes: number = DEFAULT_LIMITS.maxTextBytes;
  #current: string;
  #closing = false;
  #isReady = false;

  /** A client over an open TLS connection. Call run() to start. */
  constructor(stream: ByteStream, options: ChatClientOptions) {
    this.#options = options;
    this.#me = userKey(options.identity.user);
    this.#current = options.room;
    this.people = new PeopleDirectory(options.trust);
    this.#conn = new FramedConnection(stream, {
      maxFrameBytes: 4 * DEFAULT_LIMITS.maxFrameBytes,
      maxQueueBytes: 64 * 1024 * 1024,
    });
    this.#ready.promise.catch(() => {});
  }

  /** Resolves once logged in and in the first room; rejects if login fails. */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** The room plain text goes to. */
  get currentRoom(): string {
    return this.#current;
  }

  /** Rooms this client is in. */
  get rooms(): RoomView[] {
    return [...this.#rooms.values()];
  }

  /** The view of `room`, if joined. */
  room(name: string): RoomView | undefined {
    return this.#rooms.get(name);
  }

  /** Messages sent but not yet acknowledged. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Read frames until the connection closes. Resolves true if it was closed by us. */
  async run(): Promise<boolean> {
    try {
      for await (const body of this.#conn.bodies()) {
        const frame = decodeFrameBody(body) as unknown as ServerFrame;
        await this.#onFrame(frame);
      }
    } catch (error) {
      if (!this.#closing) {
        this.#error(`connection failed: ${(error as Error).message}`);
      }
    } finally {
      this.#conn.close();
      if (!this.#isReady) {
        this.#ready.reject(
          new Error("the server closed the connection during login"),
        );
      }
      this.#wakeIdle();
    }
    return this.#closing;
  }

  /** Send text (or a /me action) to the current room or `room`. */
  send(text: string, kind: "text" | "me" = "text", room = this.#current): void {
    if (!this.#rooms.has(room)) {
      this.#error(`you are not in ${room}; /join a room first`);
      return;
    }
    const size = utf8(text).length;
    if (size > this.#maxTextBytes) {
      this.#error(
        `message not sent: ${size} bytes is over the ${this.#maxTextBytes}-byte limit`,
      );
      return;
    }
    if ((this.#options.maxPending ?? 1000) <= this.#pending.size) {
      this.#error(
        "message not sent: too many messages await the server; slow down",
      );
      return;
    }
    const pending: PendingMessage = {
      id: crypto.randomUUID(),
      room,
      body: { kind, text },
      epoch: -1,
      ts: 0,
      tries: 0,
    };
    this.#pending.set(pending.id, pending);
    this.#queueTransmit(pending);
  }

  /** Send a direct message to `user`, opening the DM room first if needed. */
  async sendDirect(user: string, text: string): Promise<void> {
    const room = dmRoomName(this.#me, user);
    if (!this.#rooms.has(room)) {
      const opened = this.#waitForRoom(room);
      this.#write({ t: "dm", user });
      if (!await opened) return; // error already reported
    }
    this.send(text, "text", room);
  }

  /** Join `room` and make it current. */
  async join(room: string): Promise<void> {
    const joined = this.#waitForRoom(room);
    this.#write({ t: "join", room });
    if (await joined) {
      this.#current = room;
      const view = this.#rooms.get(room)!;
      this.#system(`now talking in #${room} (${view.members.size} members)`);
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

  /** Ask the server for the room list (answered as a system event). */
  listRooms(): void {
    this.#write({ t: "list" });
  }

  /** Look up a user's public keys on the server; null if there is no such user. */
  lookup(user: string): Promise<MemberInfo | null> {
    const { promise, resolve } = Promise.withResolvers<MemberInfo | null>();
    const key = userKey(user);
    const waiters = this.#userWaiters.get(key) ?? [];
    waiters.push(resolve);
    this.#userWaiters.set(key, waiters);
    this.#write({ t: "lookup", user });
    return promise;
  }

  /** Resolves when every message sent so far is acknowledged (or the connection is gone). */
  whenIdle(): Promise<void> {
    if (this.#pending.size === 0 || this.#conn.closed) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Close the connection. */
  close(): void {
    this.#closing = true;
    this.#conn.close();
  }

  // ---- sending ----------------------------------------------------------

  #queueTransmit(pending: PendingMessage): void {
    this.#sendChain = this.#sendChain.then(() => this.#transmit(pending)).catch(
      (error) => {
        this.#pending.delete(pending.id);
        this.#error(`message not sent: ${(error as Error).message}`);
        this.#wakeIdle();
      },
    );
  }

  async #transmit(pending: PendingMessage): Promise<void> {
    const room = this.#rooms.get(pending.room);
    if (!room) throw new Error(`you are no longer in ${pending.room}`);
    if (room.needsRotation()) await this.#rotate(room);
    const key = room.myKey!;
    const header = {
      room: room.name,
      sender: this.#me,
      epoch: key.epoch,
      counter: room.counter++,
      ts: Date.now(),
    };
    const sealed = await sealMessage(
      key,
      header,
      encodeBody(pending.body),
      this.#options.identity.signingKey,
    );
    pending.epoch = key.epoch;
    pending.ts = header.ts;
    this.#write({
      t: "msg",
      id: pending.id,
      room: room.name,
      epoch: header.epoch,
      counter: header.counter,
      ts: header.ts,
      iv: toBase64Url(sealed.iv),
      ct: toBase64Url(sealed.ct),
      sig: toBase64Url(sealed.sig),
    });
  }

  /** New sender key for `room`, wrapped for every member we may encrypt to. */
  async #rotate(room: RoomView): Promise<void> {
    const key = newSenderKey(room.name, this.#me, room.nextEpoch++);
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
        room.roster,
        { user: m.key, encryptKey: m.encryptKey },
        this.#options.identity.signingKey,
      )
    ));
    this.#write({
      t: "keys",
      room: room.name,
      epoch: key.epoch,
      roster: room.roster,
      wraps,
    });
    room.myKey = key;
    room.myKeyRoster = room.roster;
    room.counter = 0;
    room.addSenderKey(key);
  }

  // ---- receiving --------------------------------------------------------

  async #onFrame(frame: ServerFrame): Promise<void> {
    switch (frame.t) {
      case "hello":
        return await this.#login(
          frame.session,
          frame.nonce,
          frame.maxTextBytes,
        );
      case "welcome":
        if (!frame.rooms.includes(this.#options.room)) {
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
      case "error":
        return this.#onError(frame);
      case "rooms":
        return this.#system(
          frame.rooms.length === 0 ? "no rooms yet" : "rooms:\n" +
            frame.rooms.map((r) =>
              `  ${
                r.room.startsWith("dm:") ? r.room : "#" + r.room
              } (${r.members} members)${r.joined ? " *" : ""}`
            ).join("\n"),
        );
      case "user":
        for (
          const resolve of this.#userWaiters.get(userKey(frame.member.user)) ??
            []
        ) {
          resolve(frame.member);
        }
        this.#userWaiters.delete(userKey(frame.member.user));
        return;
      case "ping":
        this.#write({ t: "pong", n: frame.n });
        return;
      case "pong":
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
    });
    this.#write({
      t: "login",
      user: id.user,
      uid: id.uid,
      server: this.#options.serverName,
      idKey: toBase64Url(id.idKey),
      encKey: toBase64Url(id.encKey),
      sig: toBase64Url(sig),
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
      room.members.set(person.key, person);
    }
    if (!this.#isReady && frame.room === this.#options.room) {
      this.#isReady = true;
      this.#ready.resolve();
    }
    for (const wake of this.#roomWaiters.get(frame.room) ?? []) wake();
    this.#roomWaiters.delete(frame.room);
  }

  #onLeft(roomName: string): void {
    this.#rooms.delete(roomName);
    this.#system(`you left ${roomName}`);
    if (this.#current === roomName) {
      this.#current = this.#rooms.keys().next().value ?? this.#options.room;
    }
  }

  async #onPresence(frame: PresenceFrame): Promise<void> {
    const room = this.#rooms.get(frame.room);
    if (!room) return;
    const key = userKey(frame.user);
    if (frame.event === "join" || frame.event === "leave") {
      room.roster = frame.roster;
      if (frame.event === "join" && frame.member) {
        room.members.set(key, await this.#see(frame.member, frame.room));
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
    const member = room.members.get(key);
    if (member) member.online = frame.event === "online";
    this.#options.onEvent({
      type: "presence",
      room: frame.room,
      user: frame.user,
      online: frame.event === "online",
    });
  }

  async #see(member: Parameters<PeopleDirectory["see"]>[0], room: string) {
    const { person, observation } = await this.people.see(member);
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
    const sender = this.people.get(frame.from);
    const key = room?.senderKey(frame.from, frame.epoch);
    if (!room || !sender || !key) {
      this.#error(
        `cannot decrypt a message from ${frame.from} in ${frame.room}: no key was shared with you for it`,
      );
      return;
    }
    let body: MessageBody;
    try {
      const header = {
        room: frame.room,
        sender: frame.from,
        epoch: frame.epoch,
        counter: frame.counter,
        ts: frame.ts,
      };
      const plain = await openMessage(key, header, {
        iv: fromBase64Url(frame.iv),
        ct: fromBase64Url(frame.ct),
        sig: fromBase64Url(frame.sig),
      }, sender.verifyKey);
      body = decodeBody(plain);
    } catch (error) {
      const reason = error instanceof CryptoError ? error.message : "malformed";
      this.#error(`rejected a message from ${frame.from}: ${reason}`);
      return;
    }
    const history = frame.history === true;
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
    this.#options.onEvent({
      type: "message",
      room: frame.room,
      from: sender.user,
      text: body.text,
      ts: frame.ts,
      seq: frame.seq,
      history,
      own: userKey(frame.from) === this.#me,
      kind: body.kind,
    });
  }

  #onAck(id: string, room: string, seq: number): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    this.#options.onEvent({
      type: "message",
      room,
      from: this.#options.identity.user,
      text: pending.body.text,
      ts: pending.ts,
      seq,
      history: false,
      own: true,
      kind: pending.body.kind,
    });
    this.#wakeIdle();
  }

  #onError(frame: ErrorFrame): void {
    if (!this.#isReady && !frame.id && !frame.room) {
      this.#ready.reject(
        Object.assign(new Error(frame.message), { code: frame.code }),
      );
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
    const pending = frame.id ? this.#pending.get(frame.id) : undefined;
    if (pending && RETRYABLE.has(frame.code) && pending.tries < MAX_TRIES) {
      pending.tries++;
      if (room && room.myKey?.epoch === pending.epoch) room.myKey = null;
      this.#queueTransmit(pending);
      return;
    }
    if (pending) this.#pending.delete(pending.id);
    if (frame.code === "no_such_user" && this.#userWaiters.size > 0) {
      for (const waiters of this.#userWaiters.values()) {
        for (const resolve of waiters) resolve(null);
      }
      this.#userWaiters.clear();
      return; // the caller reports "no user named …"
    }
    if (
      ["no_such_user", "bad_room", "not_member", "bad_frame"].includes(
        frame.code,
      )
    ) {
      // a /join or /msg that was refused: wake whoever waits for a room
      for (const waiters of this.#roomWaiters.values()) {
        for (const wake of waiters) wake();
      }
      this.#roomWaiters.clear();
    }
    this.#error(frame.message);
    this.#wakeIdle();
  }

  // ---- helpers -----------------------------------------------------------

  /** Resolves true once `room` is joined, false if an error came first. */
  #waitForRoom(room: string): Promise<boolean> {
    return new Promise((resolve) => {
      const waiters = this.#roomWaiters.get(room) ?? [];
      waiters.push(() => resolve(this.#rooms.has(room)));
      this.#roomWaiters.set(room, waiters);
    });
  }

  #write(frame: ClientFrame): void {
    this.#conn.send(encodeFrame(frame as unknown as RawFrame));
  }

  #wakeIdle(): void {
    if (this.#pending.size > 0 && !this.#conn.closed) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
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
