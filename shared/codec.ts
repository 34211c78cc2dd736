/**
 * Wire framing: a 4-byte big-endian length, then that many bytes of UTF-8
 * JSON holding one object with a string `t` (the frame type).
 * @module
 */
import { ProtocolError } from "./errors.ts";
import { fromUtf8, joinBytes, utf8 } from "./bytes.ts";
import type { ClientFrame, ServerFrame } from "./frame_types.ts";

/** Bytes in the length header. */
export const FRAME_HEADER_BYTES = 4;

/** A decoded frame: a JSON object with a string type tag `t`. */
export type RawFrame = { t: string; [field: string]: unknown };

/**
 * Encode one frame object as header + JSON body: the one encoder under
 * both directions (client_frames.ts's encodeClientFrame and
 * server_frames.ts's encodeServerFrame give it their typed frames; tests
 * give it raw ones). Throws RangeError if the body exceeds `maxFrameBytes`
 * (a programmer error: callers must not build frames over the limit).
 */
export function encodeFrame(
  frame: RawFrame | ClientFrame | ServerFrame,
  maxFrameBytes = Number.MAX_SAFE_INTEGER,
): Uint8Array<ArrayBuffer> {
  return encodeFrameBody(utf8(JSON.stringify(frame)), maxFrameBytes);
}

/** Prefix an already-serialised JSON body with its length header. */
export function encodeFrameBody(
  body: Uint8Array,
  maxFrameBytes = Number.MAX_SAFE_INTEGER,
): Uint8Array<ArrayBuffer> {
  if (body.length > maxFrameBytes || body.length > 0xffffffff) {
    throw new RangeError(
      `frame of ${body.length} bytes exceeds the ${maxFrameBytes}-byte limit`,
    );
  }
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/** Parse one frame body; throws ProtocolError(`bad_frame`) on anything but a JSON object with a string `t`. */
export function decodeFrameBody(body: Uint8Array): RawFrame {
  let text: string;
  try {
    text = fromUtf8(body);
  } catch (cause) {
    throw new ProtocolError("bad_frame", "frame is not valid UTF-8", {}, {
      cause,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ProtocolError("bad_frame", "frame is not valid JSON", {}, {
      cause,
    });
  }
  if (
    typeof value !== "object" || value === null || Array.isArray(value) ||
    typeof (value as { t?: unknown }).t !== "string"
  ) {
    throw new ProtocolError(
      "bad_frame",
      'frame must be a JSON object with a string "t"',
    );
  }
  return value as RawFrame;
}

/**
 * Incremental frame decoder: push bytes as they arrive (split or merged
 * across reads), get back every complete frame. A length header over the
 * limit is rejected as soon as the header is seen, before any body is buffered.
 * @example
 * ```ts
 * import { encodeFrame, FrameDecoder } from "./codec.ts";
 * const decoder = new FrameDecoder(1024);
 * const bytes = encodeFrame({ t: "ping", n: 1 });
 * console.assert(decoder.push(bytes.subarray(0, 3)).length === 0);
 * console.assert(decoder.push(bytes.subarray(3))[0]?.t === "ping");
 * ```
 */
export class FrameDecoder {
  /**
   * Copies of the bytes of a frame still arriving (the caller may reuse its
   * read buffer), joined once the frame is complete: a big frame arriving
   * in many reads costs one copy, not one per read.
   */
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  /** Header + body bytes of the frame being held, once its header is in. */
  #needed = 0;
  #maxFrameBytes: number;

  /** Create a decoder that rejects bodies larger than `maxFrameBytes`. */
  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** The largest body accepted from now on (a logged-in peer may get a larger one). */
  set maxFrameBytes(bytes: number) {
    this.#maxFrameBytes = bytes;
  }

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#heldBytes;
  }

  /** Append bytes and return the complete frames they finish, in order. */
  push(chunk: Uint8Array): RawFrame[] {
    const bodies = this.pushBodies(chunk);
    return bodies.map(decodeFrameBody);
  }

  /** Like push, but return raw bodies without parsing JSON. */
  pushBodies(chunk: Uint8Array): Uint8Array[] {
    let buffer = chunk;
    if (this.#heldBytes > 0) {
      this.#held.push(chunk.slice());
      this.#heldBytes += chunk.length;
      if (this.#needed > 0 && this.#heldBytes < this.#needed) return [];
      buffer = this.#held.length === 1 ? this.#held[0]! : joinBytes(this.#held);
      this.#held = [];
      this.#heldBytes = 0;
      this.#needed = 0;
    }
    const bodies: Uint8Array[] = [];
    let offset = 0;
    while (buffer.length - offset >= FRAME_HEADER_BYTES) {
      const length = new DataView(
        buffer.buffer,
        buffer.byteOffset + offset,
        FRAME_HEADER_BYTES,
      ).getUint32(0);
      if (length > this.#maxFrameBytes) {
        throw new ProtocolError(
          "too_large",
          `frame of ${length} bytes exceeds the ${this.#maxFrameBytes}-byte limit`,
        );
      }
      if (buffer.length - offset - FRAME_HEADER_BYTES < length) {
        this.#needed = FRAME_HEADER_BYTES + length;
        break;
      }
      const start = offset + FRAME_HEADER_BYTES;
      bodies.push(buffer.slice(start, start + length));
      offset = start + length;
    }
    if (offset < buffer.length) {
      this.#held = [buffer.slice(offset)];
      this.#heldBytes = buffer.length - offset;
    }
    return bodies;
  }
}
