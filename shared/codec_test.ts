import fc from "fast-check";
import {
  decodeFrameBody,
  encodeFrame,
  encodeFrameBody,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  type RawFrame,
} from "./codec.ts";
import { concatBytes, utf8 } from "./bytes.ts";
import { ProtocolError } from "./errors.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { assert, assertEquals, assertThrows, hex } from "./_test_assert.ts";

const LIMIT = DEFAULT_LIMITS.maxFrameBytes;

function header(length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(FRAME_HEADER_BYTES);
  new DataView(out.buffer).setUint32(0, length);
  return out;
}

function frameOf(body: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(header(body.length), body);
}

function assertProtocolError(fn: () => unknown, code: string): ProtocolError {
  const error = assertThrows(fn, ProtocolError);
  assertEquals(error.code, code, error.message);
  return error;
}

Deno.test("encodeFrame writes a 4-byte big-endian length, then the JSON body", () => {
  const bytes = encodeFrame({ t: "ping", n: 1 });
  const body = utf8('{"t":"ping","n":1}');
  assertEquals(bytes.subarray(0, 4), hex("00000012"));
  assertEquals(body.length, 0x12);
  assertEquals(bytes.subarray(4), body);
});

Deno.test("codec round-trips a frame through encodeFrame and FrameDecoder", () => {
  const frame = { t: "msg", room: "général", n: 7, ok: true, list: [1, null] };
  const decoder = new FrameDecoder(LIMIT);
  assertEquals(decoder.push(encodeFrame(frame)), [frame]);
  assertEquals(decoder.bufferedBytes, 0);
});

Deno.test("codec decodes one frame split at every byte boundary", () => {
  const frame = { t: "msg", text: "héllo, wörld 😀", n: 42 };
  const bytes = encodeFrame(frame);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const decoder = new FrameDecoder(LIMIT);
    const first = decoder.push(bytes.subarray(0, cut));
    const second = decoder.push(bytes.subarray(cut));
    assertEquals(
      [...first, ...second],
      [frame],
      `cut at ${cut}`,
    );
    assertEquals(cut === bytes.length ? first.length : second.length, 1);
    assertEquals(decoder.bufferedBytes, 0);
  }
});

Deno.test("codec decodes a frame fed one byte at a time, holding the partial bytes", () => {
  const frame = { t: "ping", n: 3 };
  const bytes = encodeFrame(frame);
  const decoder = new FrameDecoder(LIMIT);
  for (let i = 0; i < bytes.length - 1; i++) {
    assertEquals(decoder.push(bytes.subarray(i, i + 1)), [], `byte ${i}`);
    assertEquals(decoder.bufferedBytes, i + 1);
  }
  assertEquals(decoder.push(bytes.subarray(bytes.length - 1)), [frame]);
  assertEquals(decoder.bufferedBytes, 0);
});

Deno.test("codec decodes several frames merged in one chunk, in order", () => {
  const frames = [{ t: "a", n: 1 }, { t: "b", s: "x" }, { t: "c" }];
  const decoder = new FrameDecoder(LIMIT);
  assertEquals(
    decoder.push(concatBytes(...frames.map((f) => encodeFrame(f)))),
    frames,
  );
  assertEquals(decoder.bufferedBytes, 0);
});

Deno.test("codec returns the complete frames of a chunk and keeps the partial one", () => {
  const a = encodeFrame({ t: "a" });
  const b = encodeFrame({ t: "b", pad: "0123456789" });
  const chunk = concatBytes(a, b.subarray(0, 7));
  const decoder = new FrameDecoder(LIMIT);
  assertEquals(decoder.push(chunk), [{ t: "a" }]);
  assertEquals(decoder.bufferedBytes, 7);
  assertEquals(decoder.push(b.subarray(7)), [{ t: "b", pad: "0123456789" }]);
});

Deno.test("codec reads the header correctly from a chunk that is a view into a larger buffer", () => {
  const frame = { t: "ping", n: 9 };
  const backing = concatBytes(hex("deadbeef"), encodeFrame(frame), hex("cafe"));
  const view = backing.subarray(4, backing.length - 2);
  assertEquals(new FrameDecoder(LIMIT).push(view), [frame]);
});

Deno.test("codec rejects a frame over the size limit from its header alone", () => {
  const decoder = new FrameDecoder(1024);
  const error = assertProtocolError(
    () => decoder.push(header(1025)),
    "too_large",
  );
  assert(error.message.includes("1025"), error.message);
  assertEquals(decoder.bufferedBytes, 0, "nothing is kept after the rejection");
});

Deno.test("codec rejects a 4 GiB length header without waiting for a body", () => {
  const decoder = new FrameDecoder(LIMIT);
  assertProtocolError(() => decoder.push(hex("ffffffff")), "too_large");
});

Deno.test("codec accepts a length header exactly at the limit and waits for the body", () => {
  const decoder = new FrameDecoder(1024);
  assertEquals(decoder.push(header(1024)), []);
  assertEquals(decoder.bufferedBytes, 4);
});

Deno.test("codec rejects an over-limit header that follows a good frame in the same chunk", () => {
  const decoder = new FrameDecoder(64);
  assertProtocolError(
    () => decoder.push(concatBytes(encodeFrame({ t: "a" }), header(65))),
    "too_large",
  );
});

Deno.test("encodeFrame throws RangeError for a body over the given limit", () => {
  assertThrows(
    () => encodeFrame({ t: "x", pad: "y".repeat(100) }, 64),
    RangeError,
  );
  assertThrows(() => encodeFrameBody(new Uint8Array(65), 64), RangeError);
  assertEquals(encodeFrameBody(new Uint8Array(64), 64).length, 68);
});

Deno.test("codec rejects a body that is not valid UTF-8 as bad_frame", () => {
  const body = concatBytes(utf8('{"t":"'), hex("ff"), utf8('"}'));
  assertProtocolError(() => decodeFrameBody(body), "bad_frame");
  assertProtocolError(
    () => new FrameDecoder(LIMIT).push(frameOf(body)),
    "bad_frame",
  );
});

Deno.test("codec rejects a body that is not JSON as bad_frame", () => {
  for (const text of ["", "{", '{"t":"a",}', "{t:'a'}", '{"t":"a"} x']) {
    assertProtocolError(() => decodeFrameBody(utf8(text)), "bad_frame");
  }
  assertProtocolError(
    () => new FrameDecoder(LIMIT).push(frameOf(utf8("nope"))),
    "bad_frame",
  );
});

Deno.test("codec rejects JSON that is not an object as bad_frame", () => {
  for (const text of ["null", "42", '"t"', "true", "[]", '[{"t":"a"}]']) {
    assertProtocolError(() => decodeFrameBody(utf8(text)), "bad_frame");
  }
});

Deno.test("codec rejects an object whose t is missing or not a string as bad_frame", () => {
  const bodies = [
    "{}",
    '{"type":"ping"}',
    '{"t":1}',
    '{"t":null}',
    '{"t":["ping"]}',
    '{"t":{"x":1}}',
    '{"t":true}',
  ];
  for (const text of bodies) {
    assertProtocolError(() => decodeFrameBody(utf8(text)), "bad_frame");
  }
});

Deno.test("decodeFrameBody accepts any JSON object with a string t, even an empty one", () => {
  assertEquals(decodeFrameBody(utf8('{"t":""}')), { t: "" });
  assertEquals(decodeFrameBody(utf8(' {"x":[1],"t":"a"} ')), {
    x: [1],
    t: "a",
  });
});

Deno.test("pushBodies returns raw bodies without parsing them", () => {
  const decoder = new FrameDecoder(LIMIT);
  const bodies = decoder.pushBodies(
    concatBytes(frameOf(utf8("not json")), frameOf(new Uint8Array(0))),
  );
  assertEquals(bodies, [utf8("not json"), new Uint8Array(0)]);
});

const frameArbitrary: fc.Arbitrary<RawFrame> = fc
  .tuple(
    fc.string(),
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 }),
  )
  .map(([t, fields]) => ({ ...fields, t }));

Deno.test("codec decodes any frames, concatenated and re-chunked at random cuts, to the same frames", () => {
  fc.assert(
    fc.property(
      fc.array(frameArbitrary, { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (frames, cutSeeds) => {
        const stream = concatBytes(...frames.map((f) => encodeFrame(f)));
        const cuts = [
          ...new Set(cutSeeds.map((n) => n % (stream.length + 1))),
        ].sort((a, b) => a - b);
        const decoder = new FrameDecoder(Number.MAX_SAFE_INTEGER);
        const decoded: RawFrame[] = [];
        let start = 0;
        for (const cut of [...cuts, stream.length]) {
          decoded.push(...decoder.push(stream.subarray(start, cut)));
          start = cut;
        }
        // JSON has no -0; deepEqual compares numbers with ===, as JSON does.
        assertEquals(decoded, frames);
        assertEquals(decoder.bufferedBytes, 0);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("codec reassembles a big frame from many small reads of a reused buffer", () => {
  const decoder = new FrameDecoder(8 * 1024 * 1024);
  const frame = encodeFrame({ t: "keys", pad: "k".repeat(4 * 1024 * 1024) });
  const reused = new Uint8Array(1024);
  let frames: ReturnType<FrameDecoder["push"]> = [];
  for (let at = 0; at < frame.length; at += reused.length) {
    const n = Math.min(reused.length, frame.length - at);
    reused.set(frame.subarray(at, at + n));
    frames = decoder.push(reused.subarray(0, n));
    reused.fill(0); // the caller reuses its buffer: held bytes must be copies
    if (at + n < frame.length) assertEquals(frames.length, 0);
  }
  assertEquals(frames.length, 1);
  assertEquals((frames[0]!.pad as string).length, 4 * 1024 * 1024);
  assertEquals(decoder.bufferedBytes, 0);
});
