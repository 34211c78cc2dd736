/**
 * The session's login: answering each connection's hello (after checking
 * its protocol version and adopting its limits), the first join, the ready
 * event once the first room is joined, and the server's refusal, which ends
 * the session instead of a reconnect.
 * @module
 */
import type { Identity } from "../shared/crypto/identity.ts";
import { ProtocolError } from "../shared/errors.ts";
import { PROTOCOL_VERSION } from "../shared/limits.ts";
import type { HelloFrame, WelcomeFrame } from "../shared/protocol.ts";
import type { EngineContext } from "./engine_context.ts";
import { loginFrame } from "../shared/login_frame.ts";
import type { MessageSender } from "./message_sender.ts";

/** How the session logs in and what it reports when it is in. */
export interface LoginSettings {
  identity: Identity;
  /** Our formatted fingerprint, for the ready event. */
  fingerprint: string;
  /** The host name we connect to (bound into the login signature). */
  serverName: string;
  /** The server as the user knows it (host:port), for the ready event. */
  serverLabel: string;
  /** Room to join after the first login. */
  room: string;
  /** An invite secret to present at the first login. */
  invite?: string | undefined;
}

/** How one connection ended. */
export type ConnectionOutcome = "closed" | "lost" | "refused";

/** Login, readiness and refusal of one session. */
export class SessionLogin {
  #ctx: EngineContext;
  #settings: LoginSettings;
  #ready = Promise.withResolvers<void>();
  #everReady = false;
  #refusal: ProtocolError | null = null;

  /** Log in over the shared engine state with `settings`. */
  constructor(ctx: EngineContext, settings: LoginSettings) {
    this.#ctx = ctx;
    this.#settings = settings;
    this.#ready.promise.catch(() => {});
  }

  /** Resolves once logged in and in the first room; rejects if the first login fails. */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Logged in and in the first room at least once. */
  get everReady(): boolean {
    return this.#everReady;
  }

  /** Why the server refused us (its error code and words), once it has. */
  get refusal(): ProtocolError | null {
    return this.#refusal;
  }

  /** The server refused the session; `close` ends the connection now. */
  refuse(error: ProtocolError, close: boolean): void {
    this.#refusal = error;
    if (close) this.#ctx.link.connection?.close();
  }

  /** A connection's hello: check the version, adopt the limits, log in. */
  async onHello(frame: HelloFrame, sender: MessageSender): Promise<void> {
    if (frame.v !== PROTOCOL_VERSION) {
      this.refuse(
        new ProtocolError(
          "version",
          `the server speaks protocol version ${frame.v} and this client ${PROTOCOL_VERSION}; upgrade the older one`,
        ),
        true,
      );
      return;
    }
    sender.adoptLimits(frame.maxTextBytes, {
      burst: frame.rateBurst,
      perSecond: frame.ratePerSecond,
    });
    const s = this.#settings;
    // an invite admits the key once; later logins need none
    const invite = this.#everReady ? undefined : s.invite;
    this.#ctx.link.write(
      await loginFrame(s.identity, s.serverName, frame, invite),
    );
  }

  /** Logged in: join the first room unless we are a member already. */
  onWelcome(frame: WelcomeFrame): void {
    if (!this.#everReady && !frame.rooms.includes(this.#settings.room)) {
      this.#ctx.link.write({ t: "join", room: this.#settings.room });
    }
  }

  /** `room` was joined: the first time it is the session's room, we are ready. */
  joined(room: string): void {
    if (this.#everReady || room !== this.#settings.room) return;
    this.#everReady = true;
    this.#ready.resolve();
    const s = this.#settings;
    this.#ctx.say.event({
      type: "ready",
      user: s.identity.user,
      fingerprint: s.fingerprint,
      room,
      server: s.serverLabel,
    });
  }

  /** How the connection that just ended ended. */
  outcome(closing: boolean): ConnectionOutcome {
    if (closing) return "closed";
    if (this.#refusal) {
      this.#ready.reject(this.#refusal);
      return "refused";
    }
    if (!this.#everReady) {
      this.#ready.reject(
        new Error("the server closed the connection during login"),
      );
    }
    return "lost";
  }
}
