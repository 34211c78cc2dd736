import {
  assertEquals,
  assertRejects,
  assertThrows,
} from "../shared/_test_assert.ts";
import { ProtocolError } from "../shared/errors.ts";
import {
  DEFAULT_FRAME_RATES,
  FRAME_TOLERANCE_MS,
  FrameLimits,
  parseFrameRate,
  uniformFrameRates,
} from "./frame_limits.ts";

Deno.test("a user's lookups past the burst are refused as rate_limited, naming the frame and when", async () => {
  let now = 0;
  const limits = new FrameLimits(
    { lookup: { burst: 3, perSecond: 1 } },
    () => now,
  );
  for (let i = 0; i < 3; i++) await limits.admit("alice", "lookup");
  const error = await assertRejects(
    () => limits.admit("alice", "lookup"),
    ProtocolError,
  );
  assertEquals(error.code, "rate_limited");
  assertEquals(error.message, "too many lookup frames; try again in 1 s");
  now += 1000;
  await limits.admit("alice", "lookup"); // a token came back
});

Deno.test("each user and each frame class has its own bucket; join and leave share one", async () => {
  const now = 0;
  const limits = new FrameLimits(
    { membership: { burst: 2, perSecond: 0.01 } },
    () => now,
  );
  await limits.admit("alice", "join", "r");
  await limits.admit("alice", "leave", "r");
  const error = await assertRejects(
    () => limits.admit("alice", "join", "r"),
    ProtocolError,
  );
  assertEquals(error.subject.room, "r");
  await limits.admit("bob", "join", "r"); // bob's bucket is full
  await limits.admit("alice", "list"); // another class
  await limits.admit("alice", "msg"); // messages have their own limit elsewhere
  assertEquals(limits.waitFor("alice", "pong"), 0);
});

Deno.test("a frame a little early waits for its token instead of being refused", async () => {
  const limits = new FrameLimits({
    ping: { burst: 1, perSecond: 1000 / (FRAME_TOLERANCE_MS / 5) },
  });
  await limits.admit("alice", "ping");
  await limits.admit("alice", "ping"); // ~50 ms early: waited for
});

Deno.test("--frame-rate values parse as CLASS=BURST/PERSECOND", () => {
  assertEquals(parseFrameRate("history=200/20"), ["history", {
    burst: 200,
    perSecond: 20,
  }]);
  assertEquals(parseFrameRate("keys=5/0.5"), ["keys", {
    burst: 5,
    perSecond: 0.5,
  }]);
  assertThrows(() => parseFrameRate("msg=1/1"), RangeError, "no frame class");
  assertThrows(() => parseFrameRate("keys=0/1"), RangeError, "positive");
  assertThrows(() => parseFrameRate("keys"), RangeError, "CLASS=BURST");
  // every class has a default a normal client stays under
  for (const r of Object.values(DEFAULT_FRAME_RATES)) {
    assertEquals(r.burst >= 10 && r.perSecond >= 1, true);
  }
});

Deno.test("sender-key wraps are limited per user across keys frames, a refused frame spending none", async () => {
  let now = 0;
  const limits = new FrameLimits(
    { wraps: { burst: 100, perSecond: 10 } },
    () => now,
  );
  await limits.admitWraps("alice", 60);
  const error = await assertRejects(
    () => limits.admitWraps("alice", 60),
    ProtocolError,
  );
  assertEquals(error.code, "rate_limited");
  assertEquals(
    error.message,
    "too many sender-key wraps (60 in this keys frame); try again in 2 s",
  );
  await limits.admitWraps("alice", 40); // the refused frame took nothing
  await limits.admitWraps("bob", 100);
  now += 2000;
  await limits.admitWraps("alice", 20);
});

Deno.test("uniformFrameRates sets every class, so nothing is left at its default", async () => {
  const limits = new FrameLimits(
    uniformFrameRates({ burst: 1000, perSecond: 1000 }),
  );
  for (let i = 0; i < 500; i++) await limits.admit("alice", "list");
});
