/**
 * Pacing outgoing messages to the rate the server announced at login: the
 * client keeps a token bucket like the server's (shared/token_bucket.ts),
 * with a margin, so a paste or a piped script goes as fast as the server
 * accepts it instead of being refused line by line.
 * @module
 */
import { TokenBucket } from "../shared/token_bucket.ts";

/** Messages of the burst left unused, as a margin for the server's clock. */
const SAFETY_TOKENS = 2;
/** The share of the server's rate used after the burst. */
const SAFETY_RATE = 0.9;

/**
 * The rate to pace at for a server that announced `burst` and `perSecond`:
 * the server's bucket starts when our first message reaches it, which may be
 * late (it was busy storing our key), and a message more than a moment early
 * is refused, so keep below it.
 */
export function pacedRate(
  burst: number,
  perSecond: number,
): { burst: number; perSecond: number } {
  return {
    burst: Math.max(1, burst - SAFETY_TOKENS),
    perSecond: perSecond * SAFETY_RATE,
  };
}

/** A full bucket paced below `burst` at once, then `perSecond` (the server's rate). */
export function pacerFor(
  burst: number,
  perSecond: number,
  now?: () => number,
): TokenBucket {
  const rate = pacedRate(burst, perSecond);
  return new TokenBucket(rate.burst, rate.perSecond, now);
}
