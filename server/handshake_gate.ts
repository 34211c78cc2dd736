/**
 * Who may start a TLS handshake, decided on the raw TCP connection before
 * any TLS object exists (a refused connection then costs almost nothing):
 * caps on handshakes in progress per address, per network prefix (/24 for
 * IPv4, /64 for IPv6) and in all; a share of the global cap kept for
 * addresses that logged in before; and a handshake deadline that shortens
 * as the pending count grows.
 * @module
 */

import { TokenBucket } from "../shared/token_bucket.ts";

/** The handshake limits (`chat serve --max-handshakes*`). */
export interface HandshakeLimits {
  /** Handshakes in progress from all addresses together. */
  maxHandshakes: number;
  /** …from one address. */
  maxHandshakesPerIp: number;
  /** …from one /24 (IPv4) or /64 (IPv6). */
  maxHandshakesPerPrefix: number;
  /** The deadline when few handshakes are pending; it shrinks toward minHandshakeMs. */
  handshakeTimeoutMs: number;
  /** The shortest deadline, when the global cap is nearly reached. */
  minHandshakeMs: number;
  /** An address cut off for input_flood may not start a handshake for this long. */
  floodPenaltyMs: number;
}

/** Addresses that logged in before, remembered (oldest forgotten first). */
const KNOWN_ADDRESSES = 10_000;

/**
 * Connections an address may close before sending a byte: a burst of 20,
 * then 5 a second. Beyond that it is churning (connect, close, again) and
 * gets the flood penalty: its next connections are refused before any
 * per-connection state exists.
 */
const SILENT_CLOSES = { burst: 20, perSecond: 5 };

/** Share of every cap kept for addresses that logged in before. */
const KNOWN_SHARE = 0.25;

/** The network an address belongs to: its /24 (IPv4) or /64 (IPv6). */
export function networkPrefix(ip: string): string {
  if (ip.includes(".") && !ip.includes(":")) {
    return ip.split(".").slice(0, 3).join(".") + ".0/24";
  }
  const [head, tail] = ip.split("::");
  const left = head ? head.split(":") : [];
  const right = tail !== undefined && tail ? tail.split(":") : [];
  const groups = tail === undefined
    ? left
    : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return groups.slice(0, 4).map((g) => g.toLowerCase() || "0").join(":") +
    "::/64";
}

/** Handshakes in progress, and which new one may start. */
export class HandshakeGate {
  #limits: HandshakeLimits;
  #pending = 0;
  #perIp = new Map<string, number>();
  #perPrefix = new Map<string, number>();
  #known = new Map<string, true>();
  /** Addresses cut off for input_flood → until when they are refused. */
  #penalized = new Map<string, number>();
  #now: () => number;
  /** Silent closes per address (a bounded map, oldest forgotten first). */
  #silent = new Map<string, TokenBucket>();

  /** A gate with `limits`. */
  constructor(limits: HandshakeLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Handshakes in progress. */
  get pending(): number {
    return this.#pending;
  }

  /** Null if `ip` may start a handshake now, else the refusal's class. */
  refusal(ip: string): string | null {
    const l = this.#limits;
    const until = this.#penalized.get(ip);
    if (until !== undefined) {
      if (until > this.#now()) return "flood_penalty";
      this.#penalized.delete(ip);
    }
    const known = this.#known.has(ip);
    // strangers get (1 - KNOWN_SHARE) of each cap; known addresses all of it
    const cap = (n: number) =>
      known ? n : Math.max(1, Math.floor(n * (1 - KNOWN_SHARE)));
    if (this.#pending >= cap(l.maxHandshakes)) return "server_handshakes";
    if ((this.#perIp.get(ip) ?? 0) >= cap(l.maxHandshakesPerIp)) {
      return "address_handshakes";
    }
    const prefix = networkPrefix(ip);
    // a network's cap is never below one address's
    const perPrefix = Math.max(l.maxHandshakesPerPrefix, l.maxHandshakesPerIp);
    if ((this.#perPrefix.get(prefix) ?? 0) >= cap(perPrefix)) {
      return "prefix_handshakes";
    }
    return null;
  }

  /** A handshake from `ip` started; returns its deadline in ms. */
  started(ip: string): number {
    this.#pending++;
    bump(this.#perIp, ip, 1);
    bump(this.#perPrefix, networkPrefix(ip), 1);
    return this.deadlineMs();
  }

  /** A handshake from `ip` ended (done, failed or timed out). */
  ended(ip: string): void {
    this.#pending--;
    bump(this.#perIp, ip, -1);
    bump(this.#perPrefix, networkPrefix(ip), -1);
  }

  /**
   * The deadline for a handshake starting now: the full timeout while at
   * most half the global cap is pending, then shorter in proportion, down
   * to minHandshakeMs at the cap (stalled handshakes then cycle faster).
   */
  deadlineMs(): number {
    const l = this.#limits;
    const min = Math.min(l.minHandshakeMs, l.handshakeTimeoutMs);
    const fill = this.#pending / l.maxHandshakes;
    if (fill <= 0.5) return l.handshakeTimeoutMs;
    const left = Math.max(0, (1 - fill) * 2); // 1 at half full, 0 at the cap
    return Math.round(min + (l.handshakeTimeoutMs - min) * left);
  }

  /** A connection from `ip` closed before sending a byte (not closed by us). */
  silentClose(ip: string): void {
    let budget = this.#silent.get(ip);
    if (!budget) {
      budget = new TokenBucket(
        SILENT_CLOSES.burst,
        SILENT_CLOSES.perSecond,
        this.#now,
      );
      this.#silent.set(ip, budget);
      if (this.#silent.size > KNOWN_ADDRESSES) {
        this.#silent.delete(this.#silent.keys().next().value!);
      }
    }
    if (!budget.spend(1)) this.penalize(ip);
  }

  /** `ip` was cut off for input_flood: refuse its handshakes for a while. */
  penalize(ip: string): void {
    this.#penalized.delete(ip);
    this.#penalized.set(ip, this.#now() + this.#limits.floodPenaltyMs);
    if (this.#penalized.size > KNOWN_ADDRESSES) {
      this.#penalized.delete(this.#penalized.keys().next().value!);
    }
  }

  /** `ip` logged in: from now on it gets the room kept for known addresses. */
  remember(ip: string): void {
    this.#known.delete(ip);
    this.#known.set(ip, true);
    if (this.#known.size > KNOWN_ADDRESSES) {
      this.#known.delete(this.#known.keys().next().value!);
    }
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
