/**
 * Every open connection, with the limits that apply across them: a global
 * cap, a per-address cap, and liveness (TLS gives no keepalive of its own):
 * a connection silent for the idle-ping time gets a ping; one silent for the
 * idle-timeout is dropped.
 * @module
 */
import { encodeServerFrame } from "../shared/server_frames.ts";
import type { FramedConnection } from "../shared/framed_connection.ts";

/** The limits the tracker enforces. */
export interface TrackerLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
  idlePingMs: number;
  idleTimeoutMs: number;
}

/** One open connection as the tracker sees it. */
export interface TrackedConnection {
  readonly ip: string;
  readonly framed: FramedConnection;
  lastHeard: number;
  pinged: boolean;
}

/** Why a new connection is turned away. */
export interface Refusal {
  code: string;
  message: string;
}

/** Open connections, their caps and their liveness. */
export class ConnectionTracker {
  #all = new Set<TrackedConnection>();
  #perIp = new Map<string, number>();
  #limits: TrackerLimits;
  #log: (line: string) => void;
  #now: () => number;
  #timer: ReturnType<typeof setInterval> | null = null;
  #pings = 0;

  /** A tracker; call start() to begin liveness checks. */
  constructor(
    limits: TrackerLimits,
    log: (line: string) => void,
    now: () => number = Date.now,
  ) {
    this.#limits = limits;
    this.#log = log;
    this.#now = now;
  }

  /** Open connections. */
  get size(): number {
    return this.#all.size;
  }

  /** Null if a connection from `ip` may open now, else why not. */
  refusal(ip: string): Refusal | null {
    if (this.#all.size >= this.#limits.maxConnections) {
      return {
        code: "server_full",
        message:
          `the server is at its limit of ${this.#limits.maxConnections} connections; try again later`,
      };
    }
    if ((this.#perIp.get(ip) ?? 0) >= this.#limits.maxConnectionsPerIp) {
      return {
        code: "too_many_connections",
        message:
          `your address already has ${this.#limits.maxConnectionsPerIp} connections open; close one first`,
      };
    }
    return null;
  }

  /** Start tracking a new connection. */
  add(ip: string, framed: FramedConnection): TrackedConnection {
    const tracked = { ip, framed, lastHeard: this.#now(), pinged: false };
    this.#all.add(tracked);
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    return tracked;
  }

  /** Stop tracking (the connection closed). */
  remove(tracked: TrackedConnection): void {
    if (!this.#all.delete(tracked)) return;
    const n = (this.#perIp.get(tracked.ip) ?? 1) - 1;
    if (n <= 0) this.#perIp.delete(tracked.ip);
    else this.#perIp.set(tracked.ip, n);
  }

  /** The peer sent something: it is alive. */
  heard(tracked: TrackedConnection): void {
    tracked.lastHeard = this.#now();
    tracked.pinged = false;
  }

  /** Ping the idle, drop the silent. Runs on a timer after start(). */
  sweep(): void {
    const now = this.#now();
    for (const t of this.#all) {
      const idle = now - t.lastHeard;
      if (idle >= this.#limits.idleTimeoutMs) {
        this.#log(
          `dropping a connection from ${t.ip}: silent for ${
            Math.round(idle / 1000)
          } s`,
        );
        t.framed.close();
      } else if (idle >= this.#limits.idlePingMs && !t.pinged) {
        t.pinged = true;
        t.framed.send(encodeServerFrame({ t: "ping", n: ++this.#pings }));
      }
    }
  }

  /** Begin the liveness timer. */
  start(): void {
    const tick = Math.max(50, Math.min(1000, this.#limits.idlePingMs / 4));
    this.#timer ??= setInterval(() => this.sweep(), tick);
  }

  /** Stop the liveness timer. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Every tracked connection. */
  connections(): TrackedConnection[] {
    return [...this.#all];
  }
}
