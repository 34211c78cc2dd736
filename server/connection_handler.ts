/**
 * One accepted TLS connection: served as a session, or, when a connection
 * cap is reached, sent the refusal as an error frame and closed (at most
 * MAX_REFUSING at once; beyond that, closed without a word).
 * @module
 */
import {
  type ConnectionLimits,
  FramedConnection,
} from "../shared/framed_connection.ts";
import type { ConnectionTracker, Refusal } from "./connection_tracker.ts";
import type { ChatHub } from "./hub.ts";
import { frameBytes } from "./hub_state.ts";
import { serveConnection } from "./session.ts";
import type { TlsByteStream } from "./tls_listener.ts";

/** Connections over a cap that may wait for their error frame at once. */
const MAX_REFUSING = 64;

/** Send the refusal (within `ms`) on a handshaken connection, then close. */
async function refuseConnection(
  conn: TlsByteStream,
  refusal: Refusal,
  ms: number,
  limits: ConnectionLimits,
): Promise<void> {
  const framed = new FramedConnection(conn, limits);
  const timer = setTimeout(() => framed.close(), ms);
  try {
    framed.send(
      frameBytes({ t: "error", code: refusal.code, message: refusal.message }),
    );
    await framed.drain();
  } catch {
    // the peer went away
  } finally {
    clearTimeout(timer);
    framed.close();
  }
}

/** What handling one accepted connection needs. */
export interface ConnectionDeps {
  /** The loginTimeoutMs and log of the server's configuration. */
  config: { loginTimeoutMs: number; log: (line: string) => void };
  hub: ChatHub;
  tracker: ConnectionTracker;
  sessionOptions: Parameters<typeof serveConnection>[2];
  limits: ConnectionLimits;
  /** Every connection's work in progress, awaited at close. */
  running: Set<Promise<void>>;
  /** An address logged in (the listener keeps room for it). */
  loggedIn?: (ip: string) => void;
  /** A connection from `ip` was cut off for input_flood. */
  flooded?: (ip: string) => void;
}

/** Serve each accepted connection, or refuse it (with an error frame) over a cap. */
export function connectionHandler(
  deps: ConnectionDeps,
): (conn: TlsByteStream) => void {
  const { config, hub, tracker, sessionOptions, limits, running } = deps;
  const track = (done: Promise<void>) => {
    running.add(done);
    done.finally(() => running.delete(done));
  };
  let refusing = 0;
  return (conn) => {
    const ip = conn.remoteAddress;
    const refusal = tracker.refusal(ip);
    if (refusal) {
      if (refusing >= MAX_REFUSING) {
        conn.close(); // under a flood, not even the courtesy of an error frame
        return;
      }
      refusing++;
      track(
        refuseConnection(conn, refusal, config.loginTimeoutMs, limits)
          .finally(() => refusing--),
      );
      return;
    }
    const framed = new FramedConnection(
      conn,
      limits,
      (reason) => config.log(`dropping a connection from ${ip}: ${reason}`),
    );
    const tracked = tracker.add(ip, framed);
    track(
      serveConnection(framed, hub, sessionOptions, {
        ip,
        heard: () => tracker.heard(tracked),
        acceptedAt: conn.acceptedAt,
        inputRefusal: () => {
          if (conn.inputRefusal !== null) deps.flooded?.(ip);
          return conn.inputRefusal;
        },
        loggedIn: () => deps.loggedIn?.(ip),
      }).finally(() => tracker.remove(tracked)),
    );
  };
}
