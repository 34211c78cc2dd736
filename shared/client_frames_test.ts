import {
  encodeClientFrame,
  MAX_HISTORY_PAGE,
  MAX_WRAPS_PER_FRAME,
  parseClientBody,
  parseClientFrame,
} from "./client_frames.ts";
import { decodeFrameBody, type RawFrame } from "./codec.ts";
import type { ClientFrame, LoginFrame } from "./frame_types.ts";
import { ProtocolError } from "./errors.ts";
import { toBase64Url, utf8 } from "./bytes.ts";
import { assert, assertEquals, assertThrows } from "./_test_assert.ts";

const b64 = (n: number) => toBase64Url(new Uint8Array(n).fill(0xab));
const ID = "0f8fad5b-d9cb-469f-a165-70867728950e";
const WRAP = { to: "bob", wrap: b64(384), sig: b64(64) };

const VALID: ClientFrame[] = [
  {
    t: "login",
    user: "Alice",
    uid: ID,
    server: "chat.example.org",
    idKey: b64(32),
    encKey: b64(422),
    sig: b64(64),
  },
  { t: "join", room: "general" },
  { t: "leave", room: "dm:alice:bob" },
  { t: "dm", user: "bob" },
  {
    t: "keys",
    room: "general",
    epoch: 0,
    roster: 3,
    wraps: [WRAP, { ...WRAP, to: "carol" }],
  },
  { t: "keys", room: "general", epoch: 1, roster: 1, wraps: [] },
  {
    t: "msg",
    id: ID,
    room: "general",
    epoch: 2,
    counter: 0,
    ts: 1_700_000_000_000,
    iv: b64(12),
    ct: b64(100),
    sig: b64(64),
  },
  { t: "list" },
  { t: "lookup", user: "carol" },
  { t: "ping", n: 0 },
  { t: "pong", n: Number.MAX_SAFE_INTEGER },
];

function validOf(t: string): RawFrame {
  const frame = VALID.find((f) => f.t === t);
  if (!frame) throw new Error(`no valid ${t} frame`);
  return structuredClone(frame) as unknown as RawFrame;
}

function assertBad(frame: RawFrame, what: string): void {
  const error = assertThrows(() => parseClientFrame(frame), ProtocolError);
  assertEquals(error.code, "bad_frame", `${what}: ${error.message}`);
}

Deno.test("parseClientFrame accepts every valid client frame type unchanged", () => {
  for (const frame of VALID) {
    assertEquals(
      parseClientFrame(structuredClone(frame) as unknown as RawFrame),
      frame,
      frame.t,
    );
  }
});

Deno.test("parseClientFrame rejects an unknown t with unknown_type", () => {
  for (
    const t of [
      "shout",
      "",
      "LOGIN",
      "hello",
      "welcome",
      "__proto__",
      "x".repeat(1000),
    ]
  ) {
    const error = assertThrows(() => parseClientFrame({ t }), ProtocolError);
    assertEquals(error.code, "unknown_type", t);
  }
});

Deno.test("parseClientFrame rejects an id that is not a lowercase UUID", () => {
  for (
    const id of [
      "not-a-uuid",
      ID.toUpperCase(),
      ID.slice(1),
      ID + "0",
      ID.replaceAll("-", ""),
      42,
    ]
  ) {
    assertBad({ ...validOf("msg"), id }, String(id));
  }
  assertBad({ ...validOf("login"), uid: "alice" }, "login uid");
});

Deno.test("parseClientFrame rejects a negative, fractional, unsafe or non-number integer field", () => {
  for (const epoch of [-1, 1.5, 2 ** 53, "1", null, NaN]) {
    assertBad({ ...validOf("msg"), epoch }, `msg epoch ${epoch}`);
    assertBad({ ...validOf("keys"), epoch }, `keys epoch ${epoch}`);
  }
  assertBad({ ...validOf("msg"), counter: -1 }, "counter");
  assertBad({ ...validOf("msg"), ts: -5 }, "ts");
  assertBad({ ...validOf("keys"), roster: -1 }, "roster");
  assertBad({ ...validOf("ping"), n: -1 }, "ping n");
  assertBad({ t: "pong" }, "missing n");
});

Deno.test("parseClientFrame rejects binary fields that are not unpadded base64url or too long", () => {
  for (const iv of ["abc+def", "abc/def", "abcd==", "ab cd", b64(13), 12]) {
    assertBad({ ...validOf("msg"), iv }, `iv ${iv}`);
  }
  assertBad({ ...validOf("msg"), sig: b64(97) }, "sig over 128 characters");
  assertBad({ ...validOf("login"), idKey: "a+b" }, "idKey");
  assertBad(
    { ...validOf("login"), idKey: b64(49) },
    "idKey over 64 characters",
  );
  assertBad(
    { ...validOf("login"), encKey: b64(769) },
    "encKey over 1024 characters",
  );
});

Deno.test("parseClientFrame rejects a keys frame with too many or malformed wraps", () => {
  const many = Array.from({ length: MAX_WRAPS_PER_FRAME + 1 }, () => WRAP);
  assertBad({ ...validOf("keys"), wraps: many }, "too many wraps");
  const exactly = Array.from({ length: MAX_WRAPS_PER_FRAME }, () => WRAP);
  assertEquals(
    (parseClientFrame({ ...validOf("keys"), wraps: exactly }) as {
      wraps: unknown[];
    })
      .wraps.length,
    MAX_WRAPS_PER_FRAME,
  );
  assertBad({ ...validOf("keys"), wraps: "nope" }, "wraps not an array");
  assertBad({ ...validOf("keys"), wraps: { 0: WRAP } }, "wraps an object");
  assertBad({ ...validOf("keys"), wraps: [null] }, "null wrap");
  assertBad({ ...validOf("keys"), wraps: ["x"] }, "string wrap");
  assertBad({ ...validOf("keys"), wraps: [{ ...WRAP, to: "b b" }] }, "wrap to");
  assertBad(
    { ...validOf("keys"), wraps: [{ ...WRAP, wrap: "a=" }] },
    "wrap bytes",
  );
  assertBad(
    { ...validOf("keys"), wraps: [{ ...WRAP, sig: undefined }] },
    "wrap sig",
  );
});

Deno.test("parseClientFrame rejects invalid usernames and room names", () => {
  for (const user of ["", "\u0430lice", "bob\u202e", "a".repeat(33), "_x", 7]) {
    assertBad({ ...validOf("login"), user }, `login user ${user}`);
    assertBad({ t: "dm", user }, `dm user ${user}`);
    assertBad({ t: "lookup", user }, `lookup user ${user}`);
  }
  for (
    const room of ["", "#general", "General", "dm:bob:alice", "a".repeat(33), 1]
  ) {
    assertBad({ t: "join", room }, `join room ${room}`);
    assertBad({ ...validOf("msg"), room }, `msg room ${room}`);
  }
  assertBad(
    { ...validOf("login"), server: "s".repeat(256) },
    "server too long",
  );
  assertBad({ ...validOf("login"), server: undefined }, "server missing");
});

Deno.test("parseClientFrame drops unknown extra fields, including inside wraps", () => {
  assertEquals(parseClientFrame({ t: "ping", n: 1, extra: "x" }), {
    t: "ping",
    n: 1,
  });
  assertEquals(parseClientFrame({ t: "list", rooms: ["general"] }), {
    t: "list",
  });
  assertEquals(
    parseClientFrame({
      t: "join",
      room: "general",
      history: true,
      __proto__x: 1,
    }),
    { t: "join", room: "general" },
  );
  const parsed = parseClientFrame({
    ...validOf("keys"),
    from: "mallory",
    wraps: [{ ...WRAP, from: "mallory", t: "evil" }],
  });
  assertEquals(parsed, { ...validOf("keys"), wraps: [WRAP] });
  assertEquals(
    parseClientFrame({
      ...validOf("msg"),
      from: "mallory",
      seq: 9,
      history: true,
    }),
    validOf("msg"),
  );
});

Deno.test("parseClientBody: over the frame limit only a keys frame is read; anything else is too_large before validation", () => {
  const limit = 1024;
  const wraps = Array.from({ length: 10 }, (_, i) => ({
    to: `user${i}`,
    wrap: "A".repeat(200),
    sig: "B".repeat(86),
  }));
  const keys = utf8(JSON.stringify({
    t: "keys",
    room: "big",
    epoch: 2,
    roster: 7,
    wraps,
  }));
  assert(keys.length > limit);
  assertEquals(parseClientBody(keys, limit).t, "keys");
  const ping = utf8(JSON.stringify({ t: "ping", n: 1, pad: "x".repeat(2000) }));
  const error = assertThrows(() => parseClientBody(ping, limit), ProtocolError);
  assertEquals(error.code, "too_large");
  // a large body of an unknown type is too_large, not unknown_type (which
  // would keep the connection)
  const unknown = utf8(JSON.stringify({ t: "nope", pad: "x".repeat(2000) }));
  assertEquals(
    assertThrows(() => parseClientBody(unknown, limit), ProtocolError).code,
    "too_large",
  );
  // under the limit it is parseClientFrame exactly
  assertEquals(parseClientBody(utf8('{"t":"ping","n":3}'), limit), {
    t: "ping",
    n: 3,
  });
});

const FP = "abcd ".repeat(16).trim();

Deno.test("parseClientFrame reads login with an invite, history both ways and every mod action", () => {
  const frames: ClientFrame[] = [
    { ...(validOf("login") as unknown as LoginFrame), invite: b64(32) },
    { t: "history", room: "general", before: 10, limit: 50 },
    { t: "history", room: "general", after: 0, limit: MAX_HISTORY_PAGE },
    { t: "mod", action: "motd" },
    { t: "mod", action: "motd", text: "be kind" },
    { t: "mod", action: "allow", fingerprint: FP },
    { t: "mod", action: "allow", fingerprint: FP.replaceAll(" ", ":") },
    { t: "mod", action: "kick", user: "bob", reason: "spam" },
    { t: "mod", action: "ban", user: "bob", durationMs: 60_000 },
    { t: "mod", action: "unban", user: "bob" },
    { t: "mod", action: "mute", user: "bob", durationMs: 0 },
    { t: "mod", action: "unmute", user: "bob" },
  ];
  for (const frame of frames) {
    assertEquals(
      parseClientFrame(structuredClone(frame) as unknown as RawFrame),
      frame,
    );
  }
});

Deno.test("parseClientFrame rejects bad history and mod frames with bad_frame", () => {
  const bad: [RawFrame, string][] = [
    [{ t: "history", room: "general", limit: 5 }, "exactly one"],
    [
      { t: "history", room: "general", before: 1, after: 1, limit: 5 },
      "exactly one",
    ],
    [{ t: "history", room: "general", before: 1, limit: 0 }, '"limit"'],
    [
      { t: "history", room: "general", before: 1, limit: MAX_HISTORY_PAGE + 1 },
      '"limit"',
    ],
    [{ t: "mod", action: "nuke", user: "bob" }, 'unknown action "nuke"'],
    [{ t: "mod", action: "kick" }, 'kick needs "user"'],
    [{ t: "mod", action: "allow" }, 'allow needs "fingerprint"'],
    [{ t: "mod", action: "allow", fingerprint: "xyz" }, "must be hex"],
    [{ t: "mod", action: "allow", fingerprint: "" }, "must be hex"],
    [
      { t: "mod", action: "allow", fingerprint: "a".repeat(129) },
      "at most 128",
    ],
    [{ t: "mod", action: "ban", user: "bob", durationMs: -1 }, "durationMs"],
    [{ t: "mod", action: "motd", text: "x".repeat(1025) }, '"text"'],
  ];
  for (const [frame, words] of bad) {
    const error = assertThrows(() => parseClientFrame(frame), ProtocolError);
    assertEquals(error.code, "bad_frame", JSON.stringify(frame));
    assert(error.message.includes(words), `${error.message} / ${words}`);
  }
});

Deno.test("parseClientFrame leaves the length of a well-charactered fingerprint to the receiver", () => {
  // a short one is not a malformed frame: the server answers it, and the
  // connection stays (normalizeFingerprint refuses it there)
  assertEquals(
    parseClientFrame({ t: "mod", action: "allow", fingerprint: "abcd" }),
    { t: "mod", action: "allow", fingerprint: "abcd" },
  );
});

Deno.test("encodeClientFrame writes the length header and the JSON body parseClientBody reads back", () => {
  for (const frame of VALID) {
    const bytes = encodeClientFrame(frame);
    const length = new DataView(bytes.buffer).getUint32(0);
    assertEquals(length, bytes.length - 4);
    assertEquals(decodeFrameBody(bytes.subarray(4)), frame);
    assertEquals(parseClientBody(bytes.subarray(4), 1 << 20), frame);
  }
  const error = assertThrows(
    () => encodeClientFrame({ t: "ping", n: 1 }, 5),
    RangeError,
  );
  assert(error.message.includes("5-byte limit"));
});
