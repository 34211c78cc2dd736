/**
 * Noticing a server that vanishes without closing the connection (a frozen
 * host, a dropped network): ping when quiet, give up when silent.
 * @module
 */
import { encodeClientFrame } from "../shared/client_frames.ts";
import type { FramedConnection } from "../shared/framed_connection.ts";

/** When to ping and when to give up. */
export interface LivenessTimes {
  /** Ping the server after this much silence (default 30 s)… */
  idlePingMs?: number | undefined;
  /** …and give up on the connection after this much (default 75 s). */
  idleTimeoutMs?: number | undefined;
}

/** Tell it whenever the server is heard; stop it when the connection ends. */
export interface Liveness {
  heard(): void;
  stop(): void;
}

/**
 * Watch `conn`: ping after `idlePingMs` of silence, close it after
 * `idleTimeoutMs` (calling `onSilent` with the seconds heard nothing).
 */
export function watchLiveness(
  conn: FramedConnection,
  times: LivenessTimes,
  onSilent: (seconds: number) => void,
): Liveness {
  const pingAfter = times.idlePingMs ?? 30_000;
  const dropAfter = times.idleTimeoutMs ?? 75_000;
  let lastHeard = Date.now();
  let pinged = false;
  const timer = setInterval(() => {
    const quiet = Date.now() - lastHeard;
    if (quiet >= dropAfter) {
      onSilent(Math.round(quiet / 1000));
      conn.close();
    } else if (quiet >= pingAfter && !pinged) {
      pinged = true;
      conn.send(encodeClientFrame({ t: "ping", n: Date.now() }));
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
