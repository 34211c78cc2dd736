/**
 * Per-user rate limits for every kind of frame but messages (those have
 * their own bucket, announced in `hello`): one token bucket per user and
 * frame class, shared by all of that user's connections. A frame that comes
 * a little early waits for its token (ergo's "fakelag": the session reads
 * its frames one at a time, so a flooder is slowed, not just refused); one
 * that would wait longer is refused with a `rate_limited` error that names
 * the frame type and when to try again.
 * @module
 */
import { ProtocolError } from "../shared/errors.ts";
import { TokenBucket } from "../shared/token_bucket.ts";

/** The frame classes that are limited (join and leave share "membership"). */
export type LimitedFrame =
  | "membership"
  | "dm"
  | "keys"
  | "history"
  | "lookup"
  | "list"
  | "ping"
  | "mod"
  | "allow_dm"
  | "wraps";

/** Burst and steady rate of one frame class. */
export interface FrameRate {
  burst: number;
  perSecond: number;
}

/** Which class a frame type counts toward (types not here are not limited). */
export const FRAME_CLASS: Readonly<Record<string, LimitedFrame>> = {
  join: "membership",
  leave: "membership",
  dm: "dm",
  keys: "keys",
  history: "history",
  lookup: "lookup",
  list: "list",
  ping: "ping",
  mod: "mod",
  allow_dm: "allow_dm",
};

/**
 * Defaults: generous for a person (and for chat's own client, which at
 * login sends one join, one history request per room and a ping every
 * idle interval), far below what a script can send.
 */
export const DEFAULT_FRAME_RATES: Readonly<Record<LimitedFrame, FrameRate>> = {
  membership: { burst: 10, perSecond: 1 },
  dm: { burst: 20, perSecond: 1 },
  keys: { burst: 60, perSecond: 10 },
  history: { burst: 200, perSecond: 20 },
  lookup: { burst: 30, perSecond: 5 },
  list: { burst: 10, perSecond: 1 },
  ping: { burst: 20, perSecond: 5 },
  mod: { burst: 30, perSecond: 2 },
  allow_dm: { burst: 30, perSecond: 2 },
  // sender-key wraps (not frames): a full rotation in the largest room
  // (2,000 members) twice at once, then 400 a second; one keys frame may
  // carry 2,000, so frames alone do not bound what a user has stored
  wraps: { burst: 4_000, perSecond: 400 },
};

/**
 * Every class at the one `rate`: tests of other things relax them all, as
 * they relax the message rate.
 */
export function uniformFrameRates(
  rate: FrameRate,
): Record<LimitedFrame, FrameRate> {
  const rates = { ...DEFAULT_FRAME_RATES };
  for (const name of Object.keys(rates) as LimitedFrame[]) rates[name] = rate;
  return rates;
}

/** How early (before its token) a frame may come and still be waited for. */
export const FRAME_TOLERANCE_MS = 250;

/**
 * Parse a `--frame-rate CLASS=BURST/PERSECOND` value (e.g. `history=200/20`);
 * throws RangeError with the reason.
 */
export function parseFrameRate(text: string): [LimitedFrame, FrameRate] {
  const m = /^([a-z_]+)=(\d+)\/(\d+(?:\.\d+)?)$/.exec(text);
  if (!m) {
    throw new RangeError(
      `"${text}" is not CLASS=BURST/PERSECOND (e.g. history=200/20)`,
    );
  }
  const name = m[1]! as LimitedFrame;
  if (!(name in DEFAULT_FRAME_RATES)) {
    throw new RangeError(
      `no frame class "${m[1]}"; one of ${
        Object.keys(DEFAULT_FRAME_RATES).join(", ")
      }`,
    );
  }
  const burst = Number(m[2]);
  const perSecond = Number(m[3]);
  if (burst < 1 || perSecond <= 0) {
    throw new RangeError(`"${text}": burst and rate must be positive`);
  }
  return [name, { burst, perSecond }];
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Refuse a frame with `rate_limited`. The refusal costs the sender time
 * too (its connection's frames are handled one at a time): a flood is
 * slowed to a few frames a second instead of answered as fast as it comes.
 */
async function refuse(message: string, room?: string): Promise<never> {
  await delay(FRAME_TOLERANCE_MS);
  throw new ProtocolError(
    "rate_limited",
    message,
    room !== undefined ? { room } : {},
  );
}

/** The buckets of every user, by frame class. */
export class FrameLimits {
  #rates: Readonly<Record<LimitedFrame, FrameRate>>;
  #buckets = new Map<string, TokenBucket>();
  /** user key → wrap tokens left and when they were counted. */
  #wraps = new Map<string, { tokens: number; at: number }>();
  #now: () => number;

  /** Limits at `rates` (the defaults for classes left out). */
  constructor(
    rates: Partial<Record<LimitedFrame, FrameRate>> = {},
    now: () => number = Date.now,
  ) {
    this.#rates = { ...DEFAULT_FRAME_RATES, ...rates };
    this.#now = now;
  }

  /**
   * Spend one token of `frameType`'s class for `userKey`, waiting up to
   * FRAME_TOLERANCE_MS for it; throws a `rate_limited` ProtocolError when
   * it would take longer. Frame types without a class pass.
   */
  async admit(
    userKey: string,
    frameType: string,
    room?: string,
  ): Promise<void> {
    const bucket = this.#bucket(userKey, frameType);
    if (!bucket) return;
    // another connection of the same user may take the token waited for:
    // wait again, as long as the whole wait stays within the tolerance
    const latest = this.#now() + FRAME_TOLERANCE_MS;
    for (;;) {
      if (bucket.take()) return;
      const wait = bucket.msUntilToken();
      if (this.#now() + wait > latest) {
        const seconds = Math.max(1, Math.ceil(wait / 1000));
        return await refuse(
          `too many ${frameType} frames; try again in ${seconds} s`,
          room,
        );
      }
      await delay(Math.max(1, wait));
    }
  }

  /**
   * Spend `count` wrap tokens of `userKey` for one keys frame, or throw
   * `rate_limited` (spending none) when there are not that many.
   */
  async admitWraps(userKey: string, count: number): Promise<void> {
    const { burst, perSecond } = this.#rates.wraps;
    const now = this.#now();
    const held = this.#wraps.get(userKey) ?? { tokens: burst, at: now };
    held.tokens = Math.min(
      burst,
      held.tokens + ((now - held.at) / 1000) * perSecond,
    );
    held.at = now;
    this.#wraps.set(userKey, held);
    if (held.tokens >= count) {
      held.tokens -= count;
      return;
    }
    const seconds = Math.ceil((count - held.tokens) / perSecond);
    return await refuse(
      `too many sender-key wraps (${count} in this keys frame); try again in ${seconds} s`,
    );
  }

  /** Milliseconds until `userKey` may send one more `frameType` frame. */
  waitFor(userKey: string, frameType: string): number {
    return this.#bucket(userKey, frameType)?.msUntilToken() ?? 0;
  }

  /** Number of buckets kept (one per user and class used). */
  get size(): number {
    return this.#buckets.size;
  }

  #bucket(userKey: string, frameType: string): TokenBucket | undefined {
    const cls = FRAME_CLASS[frameType];
    if (!cls) return undefined;
    const id = `${cls}\u0000${userKey}`;
    let bucket = this.#buckets.get(id);
    if (!bucket) {
      const rate = this.#rates[cls];
      bucket = new TokenBucket(rate.burst, rate.perSecond, this.#now);
      this.#buckets.set(id, bucket);
    }
    return bucket;
  }
}
