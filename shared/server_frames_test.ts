import { decodeFrameBody, type RawFrame } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import {
  encodeServerFrame,
  parseServerBody,
  parseServerFrame,
  serverFrameProblem,
} from "./server_frames.ts";
import { assert, assertEquals, assertThrows } from "./_test_assert.ts";

const ID = "0b7e9c4a-3f1d-4c2e-9a8b-1d2e3f4a5b6c";
const MEMBER = {
  user: "bob",
  uid: "u1",
  idKey: "aWRLZXk",
  encKey: "ZW5jS2V5",
  online: true,
};

/** One well-formed frame of every type the server sends. */
const GOOD: RawFrame[] = [
  {
    t: "hello",
    v: 1,
    session: "s1",
    nonce: "bm9uY2U",
    maxFrameBytes: 65536,
    maxTextBytes: 4096,
  },
  {
    t: "welcome",
    session: "s1",
    user: "alice",
    rooms: ["general", "dm:alice:bob"],
  },
  { t: "welcome", session: "s1", user: "alice", rooms: [] },
  { t: "joined", room: "general", roster: 3, epoch: 0, members: [MEMBER] },
  { t: "joined", room: "dm:alice:bob", roster: 1, epoch: 2, members: [] },
  { t: "left", room: "general" },
  {
    t: "presence",
    room: "general",
    event: "join",
    user: "bob",
    roster: 4,
    member: MEMBER,
  },
  { t: "presence", room: "general", event: "offline", user: "bob", roster: 4 },
  {
    t: "key",
    room: "general",
    from: "bob",
    epoch: 1,
    roster: 4,
    wrap: "d3JhcA",
    sig: "c2ln",
  },
  {
    t: "msg",
    room: "general",
    from: "bob",
    seq: 17,
    id: ID,
    epoch: 1,
    counter: 0,
    ts: 1_700_000_000_000,
    iv: "aXY",
    ct: "Y3Q",
    sig: "c2ln",
    history: true,
  },
  { t: "ack", id: ID, room: "general", seq: 18 },
  {
    t: "error",
    code: "bad_epoch",
    message: "stale key",
    id: ID,
    room: "general",
    epoch: 3,
  },
  { t: "error", code: "rate_limited", message: "slow down" },
  {
    t: "rooms",
    rooms: [
      { room: "general", members: 3, joined: true },
      { room: "random", members: 0, joined: false },
    ],
  },
  { t: "rooms", rooms: [] },
  { t: "user", member: MEMBER },
  {
    t: "history_end",
    room: "general",
    mode: "before",
    count: 0,
    more: false,
    lastSeq: 10,
  },
  { t: "shutdown", message: "server restarting" },
  { t: "ping", n: 1 },
  { t: "pong", n: 0 },
];

for (const [i, frame] of GOOD.entries()) {
  const sameType = GOOD.slice(0, i).filter((f) => f.t === frame.t).length;
  const variant = sameType === 0 ? "" : ` (variant ${sameType + 1})`;
  Deno.test(`serverFrameProblem accepts a well-formed ${frame.t} frame${variant}`, () => {
    assertEquals(serverFrameProblem(frame), null);
  });
}

Deno.test("serverFrameProblem has a well-formed example of every server frame type", () => {
  const types = new Set(GOOD.map((f) => f.t));
  for (
    const t of [
      "hello",
      "welcome",
      "joined",
      "left",
      "presence",
      "key",
      "msg",
      "ack",
      "error",
      "rooms",
      "user",
      "history_end",
      "shutdown",
      "ping",
      "pong",
    ]
  ) assert(types.has(t), `no example of ${t}`);
});

const MSG: RawFrame = GOOD.find((f) => f.t === "msg")!;
const WELCOME: RawFrame = GOOD[1]!;
const with_ = (base: RawFrame, extra: Record<string, unknown>): RawFrame => ({
  ...base,
  ...extra,
});

/** [what is wrong, frame, the problem reported] */
const BAD: [string, RawFrame, string][] = [
  ["an unknown frame type", { t: "nope" }, 'unknown frame type "nope"'],
  [
    "a client-to-server frame type",
    { t: "login" },
    'unknown frame type "login"',
  ],
  ["an empty frame type", { t: "" }, 'unknown frame type ""'],
  [
    "a room with escape characters",
    with_(MSG, { room: "gen\x1b[2Jeral" }),
    "bad room name",
  ],
  [
    "an uppercase public room",
    with_(MSG, { room: "General" }),
    "bad room name",
  ],
  ["a room ../x", { t: "left", room: "../x" }, "bad room name"],
  ["a room with a #", { t: "left", room: "#general" }, "bad room name"],
  ["an empty room", { t: "left", room: "" }, "bad room name"],
  ["a room that is not a string", { t: "left", room: 7 }, "bad room name"],
  [
    "a DM room in the wrong order",
    { t: "left", room: "dm:bob:alice" },
    "bad room name",
  ],
  ["a bad from", with_(MSG, { from: "bad!name" }), "bad from"],
  ["a from with an escape", with_(MSG, { from: "ev\x1b[0mil" }), "bad from"],
  ["a from that is not a string", with_(MSG, { from: 1 }), "bad from"],
  ["a bad user", {
    t: "presence",
    room: "general",
    event: "join",
    user: "a b",
    roster: 1,
  }, "bad user"],
  [
    "a welcome for a bad user",
    with_(WELCOME, { user: "../alice" }),
    "bad user",
  ],
  ["a negative seq", with_(MSG, { seq: -1 }), "bad seq"],
  ["a fractional seq", with_(MSG, { seq: 1.5 }), "bad seq"],
  ["a seq given as a string", with_(MSG, { seq: "3" }), "bad seq"],
  ["a seq beyond the safe integers", with_(MSG, { seq: 2 ** 53 }), "bad seq"],
  ["a negative ts", with_(MSG, { ts: -5 }), "bad ts"],
  ["a fractional epoch", with_(MSG, { epoch: 0.5 }), "bad epoch"],
  ["a ct that is not a string", with_(MSG, { ct: 5 }), "bad ct"],
  ["a null ct", with_(MSG, { ct: null }), "bad ct"],
  [
    "an id that is not a string",
    { t: "ack", id: 1, room: "general", seq: 1 },
    "bad id",
  ],
  ["members that are not a list", {
    t: "joined",
    room: "general",
    roster: 1,
    epoch: 0,
    members: {},
  }, "bad members"],
  ["a member with a bad user", {
    t: "joined",
    room: "general",
    roster: 1,
    epoch: 0,
    members: [MEMBER, { ...MEMBER, user: "bad!name" }],
  }, "bad members"],
  ["a member without keys", {
    t: "joined",
    room: "general",
    roster: 1,
    epoch: 0,
    members: [{ user: "bob", uid: "u1" }],
  }, "bad members"],
  ["a null member", {
    t: "joined",
    room: "general",
    roster: 1,
    epoch: 0,
    members: [null],
  }, "bad members"],
  ["a user frame with a bad member", {
    t: "user",
    member: { ...MEMBER, user: "\x1b" },
  }, "bad member"],
  ["a presence with a bad member", {
    t: "presence",
    room: "general",
    event: "join",
    user: "bob",
    roster: 1,
    member: { ...MEMBER, encKey: 5 },
  }, "bad member"],
  [
    "a welcome whose rooms are not a list",
    with_(WELCOME, { rooms: "general" }),
    "bad rooms",
  ],
  [
    "a welcome with an uppercase room",
    with_(WELCOME, { rooms: ["general", "General"] }),
    "bad rooms",
  ],
  [
    "a welcome with a room that is not a string",
    with_(WELCOME, { rooms: [1] }),
    "bad rooms",
  ],
  [
    "a welcome with an escape in a room",
    with_(WELCOME, { rooms: ["a\x1b[2J"] }),
    "bad rooms",
  ],
  [
    "a rooms list that is not a list",
    { t: "rooms", rooms: "general" },
    "bad room list",
  ],
  ["a rooms list that is missing", { t: "rooms" }, "bad room list"],
  [
    "a rooms list with a null entry",
    { t: "rooms", rooms: [null] },
    "bad room list",
  ],
  [
    "a rooms list with a plain string entry",
    { t: "rooms", rooms: ["general"] },
    "bad room list",
  ],
  ["a rooms list with a bad room name", {
    t: "rooms",
    rooms: [{ room: "../etc", members: 1, joined: false }],
  }, "bad room list"],
  ["a rooms list with a member count given as a string", {
    t: "rooms",
    rooms: [{ room: "general", members: "3", joined: false }],
  }, "bad room list"],
  ["a rooms list with a fractional member count", {
    t: "rooms",
    rooms: [{ room: "general", members: 1.5, joined: false }],
  }, "bad room list"],
  ["a rooms list with joined not a boolean", {
    t: "rooms",
    rooms: [{ room: "general", members: 1, joined: "yes" }],
  }, "bad room list"],
];

for (const [what, frame, problem] of BAD) {
  Deno.test(`serverFrameProblem rejects ${what}`, () => {
    assertEquals(serverFrameProblem(frame), problem);
  });
}

Deno.test("serverFrameProblem reports a hostile frame type short and without escapes", () => {
  const problem = serverFrameProblem({
    t: "\x1b[2J\x1b]0;pwned\x07" + "x".repeat(1000),
  });
  assert(problem !== null);
  assert(!problem.includes("\x1b"), JSON.stringify(problem));
  assert(problem.length < 100, JSON.stringify(problem));
});

Deno.test("parseServerFrame returns every well-formed frame as it is", () => {
  for (const frame of GOOD) assertEquals(parseServerFrame(frame), frame);
});

Deno.test("parseServerFrame throws serverFrameProblem's words: bad_frame for a bad field, unknown_type for a type no server sends", () => {
  for (const [what, frame, problem] of BAD) {
    const error = assertThrows(() => parseServerFrame(frame), ProtocolError);
    assertEquals(error.message, problem, what);
    const code = problem.startsWith("unknown frame type")
      ? "unknown_type"
      : "bad_frame";
    assertEquals(error.code, code, what);
  }
});

Deno.test("parseServerBody reads what encodeServerFrame wrote, and refuses a body that is not a frame object", () => {
  for (const frame of GOOD) {
    const bytes = encodeServerFrame(frame as never);
    assertEquals(parseServerBody(bytes.subarray(4)), frame);
    assertEquals(decodeFrameBody(bytes.subarray(4)), frame);
  }
  for (const body of ["[1]", "{", '{"t":1}']) {
    const error = assertThrows(
      () => parseServerBody(new TextEncoder().encode(body)),
      ProtocolError,
    );
    assertEquals(error.code, "bad_frame", body);
  }
});
