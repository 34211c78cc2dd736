/**
 * Splits a byte stream into the wire's length-prefixed frames (u32be
 * length, then the body) without copying: a counting client must keep up
 * with tens of thousands of frames a second, so bodies are handed out as
 * views into one reused buffer, valid only during the callback (shared/'s
 * FrameDecoder copies each body out, which a real client can afford). The
 * frames a member does read are parsed with shared/server_frames.ts.
 * @module
 */

/** Called with a view of one frame body: `buf[start .. start + length)`. */
export type FrameCallback = (
  buf: Uint8Array,
  start: number,
  length: number,
) => void;

/** Incremental frame splitter over one reused, growing buffer. */
export class FrameScanner {
  #buf: Uint8Array;
  #end = 0;
  #need = 0;

  /** A scanner whose buffer starts at `initialBytes` and grows for big frames. */
  constructor(initialBytes = 16 * 1024) {
    this.#buf = new Uint8Array(initialBytes);
  }

  /** Where the next read should land (grows the buffer when a frame needs it). */
  space(): Uint8Array {
    const want = Math.max(this.#need, this.#end + 1);
    if (want > this.#buf.length) {
      const grown = new Uint8Array(Math.max(want, this.#buf.length * 2));
      grown.set(this.#buf.subarray(0, this.#end));
      this.#buf = grown;
    }
    return this.#buf.subarray(this.#end);
  }

  /** Account for `n` bytes just read into space(); report every complete frame. */
  commit(n: number, onFrame: FrameCallback): void {
    this.#end += n;
    const buf = this.#buf;
    let off = 0;
    this.#need = 0;
    while (this.#end - off >= 4) {
      const length = ((buf[off]! << 24) >>> 0) + (buf[off + 1]! << 16) +
        (buf[off + 2]! << 8) + buf[off + 3]!;
      if (this.#end - off - 4 < length) {
        this.#need = length + 4;
        break;
      }
      onFrame(buf, off + 4, length);
      off += 4 + length;
    }
    if (off > 0) {
      buf.copyWithin(0, off, this.#end);
      this.#end -= off;
    }
  }
}

/**
 * The `t` of a server frame, read from its first bytes: the server encodes
 * frames with JSON.stringify of objects whose first key is `t`, so the body
 * starts `{"t":"TYPE"`. Returns "" for anything else.
 */
export function frameType(buf: Uint8Array, start: number, length: number) {
  if (length < 8 || buf[start + 5] !== 34) return "";
  let type = "";
  const stop = Math.min(start + length, start + 22);
  for (let i = start + 6; i < stop; i++) {
    const c = buf[i]!;
    if (c === 34) return type;
    type += String.fromCharCode(c);
  }
  return "";
}
