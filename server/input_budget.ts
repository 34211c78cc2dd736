/**
 * What one connection may send: a budget of bytes and of frames per
 * second, each with a burst (a token bucket that spends many tokens at
 * once). A connection over either budget is told `input_flood` and closed.
 * @module
 */

/** The input limits of one connection (`chat serve --input-*`). */
export interface InputLimits {
  /** Bytes per second a connection may send, after its burst. */
  bytesPerSecond: number;
  /** Bytes a connection may send at once (at least one largest frame). */
  bytesBurst: number;
  /** Frames per second a connection may send, after its burst. */
  framesPerSecond: number;
  /** Frames a connection may send at once. */
  framesBurst: number;
}

/** The defaults: far above a person's chat, far below a flood. */
export const DEFAULT_INPUT_LIMITS: InputLimits = {
  bytesPerSecond: 256 * 1024,
  bytesBurst: 2 * 1024 * 1024,
  framesPerSecond: 50,
  framesBurst: 200,
};

/** Bytes a connection's reader holds before it stops reading the socket. */
export const READ_HIGH_WATER = 256 * 1024;

/**
 * Counts the frames that start in a byte stream (4-byte big-endian length,
 * then the body) as the bytes arrive, without keeping any of them.
 */
export class FrameCounter {
  #headerBytes = 0;
  #length = 0;
  #skip = 0;

  /** How many frame headers complete in `chunk`. */
  count(chunk: Uint8Array): number {
    let frames = 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      this.#length = this.#length * 256 + chunk[i++]!;
      if (++this.#headerBytes === 4) {
        frames++;
        this.#skip = this.#length;
        this.#headerBytes = 0;
        this.#length = 0;
      }
    }
    return frames;
  }
}

/** The words an over-budget connection is told. */
export function floodMessage(
  what: "bytes" | "frames",
  limits: InputLimits,
): string {
  return what === "bytes"
    ? `you sent more than ${limits.bytesPerSecond} bytes a second (burst ${limits.bytesBurst}); disconnected`
    : `you sent more than ${limits.framesPerSecond} frames a second (burst ${limits.framesBurst}); disconnected`;
}

/**
 * The input limits in force: never below what the message rate allows
 * (`rateBurst` messages of `maxFrameBytes` at once, `ratePerSecond` a
 * second, each with a frame of keys), so a server that lets its users send
 * faster (tests, bots) does not cut them off for sending what it allows.
 */
export function inputLimitsFor(config: {
  input: InputLimits;
  rateBurst: number;
  ratePerSecond: number;
  maxFrameBytes: number;
}): InputLimits {
  const { input, rateBurst, ratePerSecond, maxFrameBytes } = config;
  return {
    bytesPerSecond: Math.max(
      input.bytesPerSecond,
      ratePerSecond * maxFrameBytes,
    ),
    bytesBurst: Math.max(input.bytesBurst, rateBurst * maxFrameBytes),
    framesPerSecond: Math.max(input.framesPerSecond, ratePerSecond * 2),
    framesBurst: Math.max(input.framesBurst, rateBurst * 2),
  };
}
