/**
 * Fuzzing the wire codec and the client-frame validator with fast-check:
 * random byte streams and mutated valid frames (bit flips, truncation,
 * rewritten length headers, inserted garbage and invalid UTF-8), fed in
 * random chunks, and arbitrary JSON objects with real and junk frame types.
 * The only failures allowed are ProtocolErrors with their documented codes.
 *
 * Seeded: set FUZZ_SEED to replay a run (the seed is printed by each test).
 * @module
 */
import fc from "fast-check";
import {
  decodeFrameBody,
  encodeFrame,
  encodeFrameBody,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  type RawFrame,
} from "./codec.ts";
import { concatBytes } from "./bytes.ts";
import { ProtocolError } from "./errors.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { parseClientFrame } from "./client_frames.ts";
import { assert, assertEquals } from "./_test_assert.ts";

function seedFromEnv(fallback: number): number {
  try {
    const value = Number(Deno.env.get("FUZZ_SEED"));
    return Number.isSafeInteger(value) && value !== 0 ? value : fallback;
  } catch {
    return fallback; // no --allow-env
  }
}

const SEED = seedFromEnv(0x5eed_c0de);
const LIMIT = DEFAULT_LIMITS.maxFrameBytes;
const DECODER_CODES = new Set(["bad_frame", "too_large"]);
const PARSER_CODES = new Set(["bad_frame", "unknown_type"]);
const CLIENT_TYPES = [
  "login",
  "join",
  "leave",
  "dm",
  "keys",
  "msg",
  "list",
  "lookup",
  "history",
  "ping",
  "pong",
] as const;
/** Every field a client frame or wrap has, plus names that are special in JavaScript. */
const FIELD_NAMES = [
  "t",
  "user",
  "uid",
  "server",
  "idKey",
  "encKey",
  "sig",
  "room",
  "epoch",
  "roster",
  "wraps",
  "to",
  "wrap",
  "id",
  "counter",
  "ts",
  "iv",
  "ct",
  "before",
  "after",
  "limit",
  "n",
  "__proto__",
  "constructor",
  "toString",
  "valueOf",
  "toJSON",
  "length",
];

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value)?.slice(0, 400) ?? String(value);
  } catch {
    return String(value);
  }
}

function assertProtocolError(
  error: unknown,
  codes: Set<string>,
  context: string,
): ProtocolError {
  if (!(error instanceof ProtocolError) || !codes.has(error.code)) {
    throw new Error(
      `${context}: expected a ProtocolError with a code in ${[...codes]}, got ${
        describe(error)
      }${error instanceof ProtocolError ? ` (code ${error.code})` : ""}`,
    );
  }
  return error;
}

// ---- arbitraries --------------------------------------------------------------

/** Decodable unpadded base64url: the alphabet, and never a length of 1 mod 4. */
const b64Of = (max: number) =>
  fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{0,${max}}$`)).filter((s) =>
    s.length % 4 !== 1
  );
const b64Arb = b64Of(120);
const nameArb = fc.oneof(
  fc.constantFrom("general", "alice", "Bob", "dm:alice:bob", "dm:bob:alice"),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,33}$/),
);
const numberArb = fc.oneof(
  fc.constantFrom(0, 1, -1, 500, 501, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 0.5, -0),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const leafArb = fc.oneof(
  nameArb,
  b64Arb,
  fc.uuid(),
  numberArb,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
);
const keyArb = fc.oneof(
  fc.constantFrom(...FIELD_NAMES),
  fc.string({ maxLength: 8 }),
);
const { value: jsonArb } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafArb,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(keyArb, tie("value"), { maxKeys: 5, noNullPrototype: true }),
  ),
}));
const typeArb = fc.oneof(
  fc.constantFrom(...CLIENT_TYPES),
  fc.constantFrom("", "LOGIN", "msg ", "wrap", "hello", "error", "__proto__"),
  fc.string({ maxLength: 12 }),
);

/** Valid client frames of every type: the seeds the mutators start from. */
const validFrameArb: fc.Arbitrary<RawFrame> = fc.oneof(
  fc.record({
    t: fc.constant("login"),
    user: fc.constantFrom("alice", "Bob-2"),
    uid: fc.uuid(),
    server: fc.constantFrom("127.0.0.1", "chat.example.org"),
    idKey: fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    encKey: b64Of(600),
    sig: fc.stringMatching(/^[A-Za-z0-9_-]{86}$/),
  }),
  fc.record({
    t: fc.constantFrom("join", "leave"),
    room: fc.constantFrom("general", "dm:alice:bob"),
  }),
  fc.record({
    t: fc.constantFrom("dm", "lookup"),
    user: fc.constantFrom("alice", "Bob"),
  }),
  fc.record({
    t: fc.constant("keys"),
    room: fc.constant("general"),
    epoch: fc.nat(),
    roster: fc.nat(),
    wraps: fc.array(
      fc.record({
        to: fc.constantFrom("alice", "bob"),
        wrap: b64Arb,
        sig: b64Arb,
      }),
      { maxLength: 3 },
    ),
  }),
  fc.record({
    t: fc.constant("msg"),
    id: fc.uuid(),
    room: fc.constant("general"),
    epoch: fc.nat(),
    counter: fc.nat(),
    ts: fc.nat(),
    iv: fc.stringMatching(/^[A-Za-z0-9_-]{16}$/),
    ct: b64Arb,
    sig: b64Arb,
  }),
  fc.record({ t: fc.constant("list") }),
  fc.record({
    t: fc.constant("history"),
    room: fc.constant("general"),
    before: fc.nat(),
    limit: fc.integer({ min: 1, max: 500 }),
  }),
  fc.record({
    t: fc.constant("history"),
    room: fc.constant("general"),
    after: fc.nat(),
    limit: fc.integer({ min: 1, max: 500 }),
  }),
  fc.record({ t: fc.constantFrom("ping", "pong"), n: fc.nat() }),
);

/**
 * Values of the wrong type for any field: JSON that JavaScript treats
 * specially when it is compared, indexed or put into a string.
 */
const HOSTILE_JSON = [
  "null",
  "true",
  "0",
  "-1",
  "1.5",
  "1e400",
  '""',
  "[]",
  "{}",
  "[1]",
  '[""]',
  '{"toString":1}',
  '{"valueOf":{},"toString":null}',
  '[{"toString":0}]',
  '{"__proto__":{"t":"login"}}',
  '{"toJSON":1}',
  '{"length":3}',
];
const hostileArb = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constantFrom(...HOSTILE_JSON).map((json) =>
      JSON.parse(json) as unknown
    ),
  },
  { weight: 1, arbitrary: jsonArb },
);

type FieldMutation =
  | { kind: "drop"; key: string }
  | { kind: "set"; key: string; value: unknown }
  | { kind: "type"; t: string }
  | { kind: "wrap"; value: unknown }
  | { kind: "wrapField"; index: number; key: string; value: unknown };

const fieldMutationArb: fc.Arbitrary<FieldMutation> = fc.oneof(
  fc.record({ kind: fc.constant("drop" as const), key: keyArb }),
  fc.record({
    kind: fc.constant("set" as const),
    key: keyArb,
    value: hostileArb,
  }),
  fc.record({ kind: fc.constant("type" as const), t: typeArb }),
  fc.record({ kind: fc.constant("wrap" as const), value: hostileArb }),
  fc.record({
    kind: fc.constant("wrapField" as const),
    index: fc.nat(),
    key: fc.oneof(fc.constantFrom("t", "to", "wrap", "sig"), keyArb),
    value: hostileArb,
  }),
);

function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function mutateFields(frame: RawFrame, mutations: FieldMutation[]): unknown {
  const out: Record<string, unknown> = JSON.parse(JSON.stringify(frame));
  for (const m of mutations) {
    if (m.kind === "drop") delete out[m.key];
    else if (m.kind === "set") setOwn(out, m.key, m.value);
    else if (m.kind === "type") out.t = m.t;
    else if (!Array.isArray(out.wraps)) continue;
    else if (m.kind === "wrap") out.wraps.push(m.value);
    else if (out.wraps.length > 0) {
      const wrap: unknown = out.wraps[m.index % out.wraps.length];
      if (typeof wrap === "object" && wrap !== null && !Array.isArray(wrap)) {
        setOwn(wrap, m.key, m.value);
      }
    }
  }
  return out;
}

/** Any JSON object a client could send: valid frames with mutated fields, or random ones. */
const clientObjectArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: validFrameArb },
  {
    weight: 3,
    arbitrary: fc.tuple(
      validFrameArb,
      fc.array(fieldMutationArb, { minLength: 1, maxLength: 4 }),
    ).map(([frame, mutations]) => mutateFields(frame, mutations)),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(typeArb, fc.dictionary(keyArb, jsonArb, { maxKeys: 8 }))
      .map(([t, rest]) => ({ ...rest, t })),
  },
);

type ByteMutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "truncate"; at: number }
  | { kind: "header"; at: number; length: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number };

const badUtf8Arb = fc.constantFrom(
  [0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
).map((bytes) => new Uint8Array(bytes));

const lengthArb = fc.oneof(
  fc.constantFrom(0, 1, 2, 63, 64, 65, 1023, 1024, 1025, LIMIT, LIMIT + 1),
  fc.constantFrom(0x7fffffff, 0x80000000, 0xffffffff),
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.nat(300),
);

const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.nat(7),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("header" as const),
    at: fc.nat(),
    length: lengthArb,
  }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.oneof(badUtf8Arb, fc.uint8Array({ maxLength: 32 })),
  }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 16 }),
  }),
);

/** Apply byte-level mutations to a stream; exported shapes stay plain Uint8Arrays. */
function mutateBytes(
  stream: Uint8Array,
  mutations: ByteMutation[],
): Uint8Array {
  let out = new Uint8Array(stream);
  for (const m of mutations) {
    const at = m.at % (out.length + 1);
    if (m.kind === "flip" && out.length > 0) {
      out[at % out.length]! ^= 1 << m.bit;
    } else if (m.kind === "truncate") {
      out = out.slice(0, at);
    } else if (m.kind === "header") {
      const header = new Uint8Array(FRAME_HEADER_BYTES);
      new DataView(header.buffer).setUint32(0, m.length);
      out = concatBytes(out.subarray(0, at), header, out.subarray(at + 4));
    } else if (m.kind === "insert") {
      out = concatBytes(out.subarray(0, at), m.bytes, out.subarray(at));
    } else if (m.kind === "delete") {
      out = concatBytes(out.subarray(0, at), out.subarray(at + m.count));
    }
  }
  return out;
}

function encodeAny(value: unknown): Uint8Array {
  return encodeFrameBody(new TextEncoder().encode(JSON.stringify(value)));
}

/** A byte stream a client might send: random, or valid frames mutated at the byte level. */
const streamArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.tuple(
    fc.array(clientObjectArb, { minLength: 1, maxLength: 5 }),
    fc.array(byteMutationArb, { maxLength: 6 }),
  ).map(([frames, mutations]) =>
    mutateBytes(concatBytes(...frames.map(encodeAny)), mutations)
  ),
  fc.tuple(fc.array(clientObjectArb, { maxLength: 3 }), badUtf8Arb).map((
    [frames, bad],
  ) =>
    concatBytes(
      ...frames.map(encodeAny),
      encodeFrameBody(concatBytes(new TextEncoder().encode('{"t":"'), bad)),
    )
  ),
);

/** Cut a stream into chunks of the given sizes (cycling), as reads would. */
function chunks(stream: Uint8Array, sizes: number[]): Uint8Array[] {
  if (sizes.length === 0) return [stream];
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < stream.length; i++) {
    const size = sizes[i % sizes.length]!;
    out.push(stream.slice(at, at + size));
    at += size;
  }
  return out;
}

const chunkSizesArb = fc.array(fc.integer({ min: 1, max: 700 }), {
  maxLength: 12,
});

// ---- properties ---------------------------------------------------------------

function checkParse(frame: RawFrame, context: string): void {
  try {
    const parsed = parseClientFrame(frame);
    assertEquals(parsed.t, frame.t, `${context}: type kept`);
  } catch (error) {
    const e = assertProtocolError(error, PARSER_CODES, context);
    const known = (CLIENT_TYPES as readonly string[]).includes(frame.t);
    assertEquals(e.code === "unknown_type", !known, `${context}: ${e.message}`);
  }
}

Deno.test("fuzz: FrameDecoder and parseClientFrame throw only ProtocolError on random and mutated streams, and never buffer more than one frame", () => {
  console.log(`codec fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays it)`);
  fc.assert(
    fc.property(
      streamArb,
      chunkSizesArb,
      fc.constantFrom(64, 1024, LIMIT),
      fc.boolean(),
      validFrameArb,
      (stream, sizes, max, asServer, valid) => {
        const decoder = new FrameDecoder(max);
        for (const chunk of chunks(stream, sizes)) {
          let frames: RawFrame[] = [];
          try {
            // the server's path is pushBodies + decodeFrameBody; push() is the client's
            if (asServer) {
              for (const body of decoder.pushBodies(chunk)) {
                try {
                  frames.push(decodeFrameBody(body));
                } catch (error) {
                  assertProtocolError(error, new Set(["bad_frame"]), "body");
                }
              }
            } else {
              frames = decoder.push(chunk);
            }
          } catch (error) {
            const e = assertProtocolError(error, DECODER_CODES, "push");
            if (e.code === "too_large") {
              assertEquals(decoder.bufferedBytes, 0, "too_large drops it all");
            }
          }
          assert(
            decoder.bufferedBytes <= max + FRAME_HEADER_BYTES,
            `buffered ${decoder.bufferedBytes} bytes with a limit of ${max}`,
          );
          for (const frame of frames) checkParse(frame, describe(frame));
        }
        // a fresh decoder after a rejected stream still decodes a valid frame
        const fresh = new FrameDecoder(LIMIT);
        const bytes = encodeFrame(valid);
        assertEquals(fresh.push(bytes.subarray(0, 5)), []);
        assertEquals(fresh.push(bytes.subarray(5)), [valid]);
        assertEquals(fresh.bufferedBytes, 0);
        assertEquals(parseClientFrame(valid), valid);
      },
    ),
    { seed: SEED, numRuns: 4000 },
  );
});

Deno.test("fuzz: after a length header over the limit, the same decoder decodes the next valid frame", () => {
  console.log(`codec fuzz seed ${SEED}`);
  fc.assert(
    fc.property(
      fc.integer({ min: 65, max: 0xffffffff }),
      fc.uint8Array({ maxLength: 200 }),
      validFrameArb,
      (length, junk, frame) => {
        const decoder = new FrameDecoder(64);
        const header = new Uint8Array(FRAME_HEADER_BYTES);
        new DataView(header.buffer).setUint32(0, length);
        try {
          decoder.push(concatBytes(header, junk));
          throw new Error("a header over the limit was accepted");
        } catch (error) {
          assertProtocolError(error, new Set(["too_large"]), "header");
        }
        assertEquals(decoder.bufferedBytes, 0);
        const big = new FrameDecoder(LIMIT);
        assertEquals(big.push(encodeFrame(frame)), [
          JSON.parse(JSON.stringify(frame)),
        ]);
      },
    ),
    { seed: SEED, numRuns: 2000 },
  );
});

Deno.test("fuzz: valid frames split at random points decode to exactly the frames sent", () => {
  console.log(`codec fuzz seed ${SEED}`);
  fc.assert(
    fc.property(
      fc.array(clientObjectArb, { maxLength: 8 }),
      chunkSizesArb,
      (objects, sizes) => {
        const stream = concatBytes(...objects.map(encodeAny));
        const decoder = new FrameDecoder(LIMIT);
        const bodies = chunks(stream, sizes).flatMap((c) =>
          decoder.pushBodies(c)
        );
        assertEquals(decoder.bufferedBytes, 0);
        assertEquals(
          bodies.map((b) => JSON.parse(new TextDecoder().decode(b))),
          objects.map((o) => JSON.parse(JSON.stringify(o))),
        );
      },
    ),
    { seed: SEED, numRuns: 2000 },
  );
});

Deno.test("fuzz: parseClientFrame throws only ProtocolError on arbitrary JSON objects, and what it accepts it accepts again", () => {
  console.log(`codec fuzz seed ${SEED}`);
  fc.assert(
    fc.property(clientObjectArb, (object) => {
      // the server only ever sees what JSON.parse made of the wire bytes
      const frame = JSON.parse(JSON.stringify(object)) as RawFrame;
      if (typeof frame.t !== "string") return;
      let parsed;
      try {
        parsed = parseClientFrame(frame);
      } catch (error) {
        const e = assertProtocolError(error, PARSER_CODES, describe(frame));
        const known = (CLIENT_TYPES as readonly string[]).includes(frame.t);
        assertEquals(e.code === "unknown_type", !known, e.message);
        return;
      }
      const again = JSON.parse(JSON.stringify(parsed)) as RawFrame;
      assertEquals(parseClientFrame(again), parsed, "validation is stable");
    }),
    { seed: SEED, numRuns: 30_000 },
  );
});

/** Keys no client frame uses (unknown extra fields are dropped). */
const extraKeyArb = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "toString", "valueOf", "x"),
  fc.string({ maxLength: 8 }).map((k) => `x-${k}`),
);

Deno.test("fuzz: every valid client frame passes parseClientFrame unchanged", () => {
  console.log(`codec fuzz seed ${SEED}`);
  fc.assert(
    fc.property(
      validFrameArb,
      fc.dictionary(extraKeyArb, jsonArb),
      (frame, extra) => {
        const withExtra = JSON.parse(
          JSON.stringify({ ...extra, ...frame }),
        ) as RawFrame;
        assertEquals(parseClientFrame(withExtra), frame, describe(withExtra));
      },
    ),
    { seed: SEED, numRuns: 2000 },
  );
});

Deno.test('parseClientFrame refuses a keys wrap whose "t" cannot become a string with ProtocolError(bad_frame)', () => {
  // found by the fuzzer above: {"toString": 1} has a toString that is not a
  // function, so building the error message threw TypeError instead
  for (
    const t of [
      '{"toString":1}',
      '[{"toString":0}]',
      '{"valueOf":{},"toString":null}',
    ]
  ) {
    const frame = decodeFrameBody(
      new TextEncoder().encode(
        `{"t":"keys","room":"general","epoch":1,"roster":1,"wraps":[{"t":${t}}]}`,
      ),
    );
    let thrown: unknown = null;
    try {
      parseClientFrame(frame);
    } catch (error) {
      thrown = error;
    }
    assertProtocolError(thrown, new Set(["bad_frame"]), `wrap t ${t}`);
  }
});
