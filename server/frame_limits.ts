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
  | "allow_dm";

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
};

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

/** The buckets of every user, by frame class. */
export class FrameLimits {
  #rates: Readonly<Record<LimitedFrame, FrameRate>>;
  #buckets = new Map<string, TokenBucket>();
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
    const wait = this.waitFor(userKey, frameType);
    if (wait === 0) return this.#take(userKey, frameType);
    if (wait <= FRAME_TOLERANCE_MS) {
      await delay(wait);
      return this.#take(userKey, frameType);
    }
    const seconds = Math.max(1, Math.ceil(wait / 1000));
    // a refusal costs the sender time too (its connection's frames are
    // handled one at a time): a flood is slowed to a few frames a second
    // instead of being answered as fast as it is sent
    await delay(FRAME_TOLERANCE_MS);
    throw new ProtocolError(
      "rate_limited",
      `too many ${frameType} frames; try again in ${seconds} s`,
      room !== undefined ? { room } : {},
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

  #take(userKey: string, frameType: string): void {
    this.#bucket(userKey, frameType)?.take();
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
