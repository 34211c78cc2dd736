/**
 * One client connection from TLS handshake to close: the handshake
 * deadline, the login challenge, then frame dispatch to the hub.
 * @module
 */
import { AuthError, ProtocolError } from "../shared/errors.ts";
import { toBase64Url } from "../shared/bytes.ts";
import { parseClientBody } from "../shared/protocol.ts";
import type {
  ClientFrame,
  LoginFrame,
  ServerFrame,
} from "../shared/protocol.ts";
import { PROTOCOL_VERSION } from "../shared/limits.ts";
import type { FramedConnection } from "../shared/framed_connection.ts";
import type { LoginThrottle } from "./login_throttle.ts";
import { type ChatHub, frameBytes, type HubSession } from "./hub.ts";
import { checkLogin } from "./login_check.ts";
import { StoreError } from "./store/history_store.ts";

/** Settings for each connection. */
export interface SessionOptions {
  /** Names this server answers to (the certificate's SANs). */
  serverNames: string[];
  maxFrameBytes: number;
  /** A logged-in session's `keys` frame may be this large (one wrap per member). */
  maxKeysFrameBytes: number;
  maxTextBytes: number;
  maxQueueBytes: number;
  /** TLS handshake + login must finish within this many ms of accepting. */
  loginTimeoutMs: number;
  log: (line: string) => void;
  /** If set, every received frame body is passed here (debug tracing). */
  traceFrame?: (body: Uint8Array) => void;
  /** Failed logins per address. */
  loginThrottle: LoginThrottle;
}

/** What the session tells the connection tracker. */
export interface ConnectionHooks {
  /** The peer's IP address. */
  ip: string;
  /** Called for every frame received (the peer is alive). */
  heard(): void;
  /** When the TCP connection was accepted (ms since epoch). */
  acceptedAt: number;
  /** Why the connection's bytes were cut off (over its byte budget), or null. */
  inputRefusal?(): string | null;
  /** The login succeeded (the address earns the room kept for known ones). */
  loggedIn?(): void;
}

/** Serve one accepted (handshaken) TLS connection until it closes. Never throws. */
export async function serveConnection(
  framed: FramedConnection,
  hub: ChatHub,
  options: SessionOptions,
  hooks: ConnectionHooks,
): Promise<void> {
  await new Connection(framed, hub, options, hooks).serve();
}

/** The error frame that tells a logged-in session why a frame was refused. */
function errorFrame(error: unknown): ServerFrame {
  if (error instanceof ProtocolError) {
    const extra = error.subject;
    return {
      t: "error",
      code: error.code,
      message: error.message,
      ...(extra.id !== undefined ? { id: extra.id } : {}),
      ...(extra.room !== undefined ? { room: extra.room } : {}),
      ...(extra.epoch !== undefined ? { epoch: extra.epoch } : {}),
    };
  }
  if (error instanceof StoreError) {
    return {
      t: "error",
      code: "store_unavailable",
      message:
        "the server could not store that; it was not delivered, try again",
    };
  }
  return { t: "error", code: "internal", message: "internal server error" };
}

/** One connection's state: its challenge, then its logged-in session. */
class Connection {
  readonly #id = crypto.randomUUID();
  readonly #nonce = crypto.getRandomValues(new Uint8Array(32));
  #session: HubSession | null = null;
  #nonceUsed = false;
  #loginTimer: ReturnType<typeof setTimeout>;

  constructor(
    readonly framed: FramedConnection,
    readonly hub: ChatHub,
    readonly options: SessionOptions,
    readonly hooks: ConnectionHooks,
  ) {
    // One deadline from accept: the handshake's time counts against the login.
    this.#loginTimer = setTimeout(() => {
      if (!this.#session) framed.close();
    }, Math.max(0, options.loginTimeoutMs - (Date.now() - hooks.acceptedAt)));
  }

  #send(frame: ServerFrame): void {
    this.framed.send(frameBytes(frame));
  }

  /** Say hello, then take frames until the peer goes or must go. */
  async serve(): Promise<void> {
    const { framed } = this;
    try {
      this.#hello();
      for await (const body of framed.bodies()) {
        if (!await this.#receive(body)) break;
      }
      const flood = this.hooks.inputRefusal?.() ?? null;
      if (flood !== null) this.#refuseInput(flood);
      await framed.drain();
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.#send({ t: "error", code: error.code, message: error.message });
        await framed.drain();
      } else {
        this.options.log(`connection error: ${(error as Error).message}`);
      }
    } finally {
      clearTimeout(this.#loginTimer);
      if (this.#session) {
        this.hub.detach(this.#session);
        this.options.log(
          `${this.#session.user.name} disconnected (session ${this.#id})`,
        );
      }
      framed.close();
    }
  }

  /** Tell the peer it sent too much (error `input_flood`); the caller closes. */
  #refuseInput(message: string): void {
    this.#send({ t: "error", code: "input_flood", message });
    this.options.log(
      `dropping a connection from ${this.hooks.ip}: input_flood (${message})`,
    );
  }

  #hello(): void {
    const { options, hub } = this;
    this.#send({
      t: "hello",
      v: PROTOCOL_VERSION,
      session: this.#id,
      nonce: toBase64Url(this.#nonce),
      maxFrameBytes: options.maxFrameBytes,
      maxKeysFrameBytes: options.maxKeysFrameBytes,
      maxTextBytes: options.maxTextBytes,
      // so a client can pace itself instead of being refused
      rateBurst: hub.messageRate.burst,
      ratePerSecond: hub.messageRate.perSecond,
    });
  }

  /** Handle one frame body; false means close the connection. */
  async #receive(body: Uint8Array): Promise<boolean> {
    const { framed, options } = this;
    this.hooks.heard();
    // Backpressure: while this peer's own answers pile up, stop reading
    // from it (a peer that never reads is dropped by the write deadline).
    if (framed.queuedBytes > options.maxQueueBytes / 2) await framed.drain();
    options.traceFrame?.(body);
    let frame: ClientFrame;
    try {
      frame = parseClientBody(body, options.maxFrameBytes);
    } catch (error) {
      const e = error as ProtocolError;
      this.#send({ t: "error", code: e.code, message: e.message });
      // malformed frames close the connection
      return e.code === "unknown_type" && this.#session !== null;
    }
    if (!this.#session) return await this.#login(frame);
    await this.#dispatch(this.#session, frame);
    return true;
  }

  /** The first frame: a login, checked once; false means close. */
  async #login(frame: ClientFrame): Promise<boolean> {
    if (frame.t !== "login" || this.#nonceUsed) {
      this.#send({
        t: "error",
        code: "auth_required",
        message: "log in first",
      });
      return false;
    }
    this.#nonceUsed = true;
    const { options, hooks } = this;
    if (options.loginThrottle.blocked(hooks.ip)) {
      this.#send({
        t: "error",
        code: "too_many_failures",
        message:
          "too many failed logins from your address; wait a minute and try again",
      });
      options.log(
        `login refused for ${frame.user}: too many failures from ${hooks.ip}`,
      );
      return false;
    }
    try {
      await this.#logIn(frame);
      return true;
    } catch (error) {
      this.#refuseLogin(frame, error);
      return false;
    }
  }

  /** Check the login and attach the new session to the hub. */
  async #logIn(frame: LoginFrame): Promise<void> {
    const { framed, hub, options } = this;
    const user = await checkLogin(frame, {
      serverNames: options.serverNames,
      registry: hub.registry,
      admission: hub.admission,
    }, { session: this.#id, nonce: this.#nonce });
    clearTimeout(this.#loginTimer);
    // only a logged-in user may send a big room's key distribution
    framed.setMaxFrameBytes(
      Math.max(options.maxFrameBytes, options.maxKeysFrameBytes),
    );
    this.#session = {
      id: this.#id,
      user: user.record,
      fingerprint: user.fingerprint,
      sink: framed,
      sentKeys: new Set(),
      joinedRooms: new Set(),
    };
    options.log(`${user.record.name} logged in (session ${this.#id})`);
    this.hooks.loggedIn?.();
    await hub.attach(this.#session);
  }

  #refuseLogin(frame: LoginFrame, error: unknown): void {
    const { options, hooks } = this;
    if (error instanceof AuthError) {
      options.loginThrottle.recordFailure(hooks.ip);
      this.#send({ t: "error", code: error.code, message: error.message });
      options.log(`login refused for ${frame.user}: ${error.code}`);
      return;
    }
    this.#send({
      t: "error",
      code: "internal",
      message: "login failed because of a server error; try again later",
    });
    options.log(`login failed for ${frame.user}: ${(error as Error).message}`);
  }

  /** Hand a logged-in session's frame to the hub; a refusal is an error frame. */
  async #dispatch(session: HubSession, frame: ClientFrame): Promise<void> {
    try {
      await this.hub.handle(session, frame);
    } catch (error) {
      this.#send(errorFrame(error));
      if (error instanceof StoreError) {
        this.options.log(`storage failure: ${error.message}`);
      } else if (!(error instanceof ProtocolError)) {
        this.options.log(`internal error: ${(error as Error).stack ?? error}`);
      }
    }
  }
}
