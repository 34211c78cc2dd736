/**
 * The engine's link to the server: the connection of the moment (none
 * while reconnecting), typed frames written to it, and barriers: the server
 * handles a connection's frames in order, so its pong to our ping means
 * "everything sent before it has been answered".
 * @module
 */
import { encodeClientFrame } from "../shared/client_frames.ts";
import type { FramedConnection } from "../shared/framed_connection.ts";
import type { ClientFrame } from "../shared/protocol.ts";
import type { PendingRequests } from "./pending_requests.ts";

/** The current connection, if any, and how to write to it. */
export class ServerLink {
  #conn: FramedConnection | null = null;
  #pending: PendingRequests;
  #notConnected: () => void;
  #nextPing = 1;

  /** `notConnected` is called when a frame cannot be written (to tell the user). */
  constructor(pending: PendingRequests, notConnected: () => void) {
    this.#pending = pending;
    this.#notConnected = notConnected;
  }

  /** The connection of the moment (compare identities to notice a reconnect). */
  get connection(): FramedConnection | null {
    return this.#conn;
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.#conn !== null;
  }

  /** Use `conn` from now on (null: it ended). */
  attach(conn: FramedConnection | null): void {
    this.#conn = conn;
  }

  /** Write `frame`; false (and the user told) when not connected. */
  write(frame: ClientFrame): boolean {
    if (!this.#conn) {
      this.#notConnected();
      return false;
    }
    this.#conn.send(encodeClientFrame(frame));
    return true;
  }

  /**
   * Resolves once the server has answered every frame written before this
   * call, or the connection ended (at once when there is none).
   */
  barrier(): Promise<void> {
    if (!this.#conn) return Promise.resolve();
    const n = this.#nextPing++;
    const answered = this.#pending.wait<void>(`pong:${n}`, undefined);
    this.write({ t: "ping", n });
    return answered;
  }

  /** A pong came: the barrier with that number is passed. */
  pong(n: number): void {
    this.#pending.answer(`pong:${n}`, undefined);
  }
}
