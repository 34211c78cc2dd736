import { TokenBucket } from "../shared/token_bucket.ts";

function assertEquals(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(
      `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
    );
  }
}

Deno.test("a token bucket allows a burst, then refills at its rate", () => {
  let now = 0;
  const bucket = new TokenBucket(10, 2, () => now);
  const first = Array.from({ length: 12 }, () => bucket.take());
  assertEquals(first.filter(Boolean).length, 10);
  now += 499;
  assertEquals(bucket.take(), false);
  now += 1; // 0.5 s: one token
  assertEquals(bucket.take(), true);
  assertEquals(bucket.take(), false);
  now += 60_000; // refills only up to the burst
  assertEquals(
    Array.from({ length: 12 }, () => bucket.take()).filter(Boolean).length,
    10,
  );
});

Deno.test("a token bucket says how long until its next token, without spending one", () => {
  let now = 0;
  const bucket = new TokenBucket(2, 4, () => now);
  assertEquals(bucket.msUntilToken(), 0);
  bucket.take();
  bucket.take();
  assertEquals(bucket.msUntilToken(), 250);
  now += 249;
  assertEquals(bucket.msUntilToken(), 1);
  assertEquals(bucket.take(), false);
  now += 1;
  assertEquals(bucket.msUntilToken(), 0);
  assertEquals(bucket.take(), true);
});

Deno.test("a token bucket lets through at most burst + rate × time", () => {
  let now = 0;
  const bucket = new TokenBucket(10, 2, () => now);
  let passed = 0;
  for (let ms = 0; ms <= 10_000; ms += 10) {
    now = ms;
    if (bucket.take()) passed++;
  }
  assertEquals(passed, 10 + 2 * 10);
});

Deno.test("a token bucket emptied waits a full interval; a new rate starts full", () => {
  const bucket = new TokenBucket(10, 4, () => 0);
  bucket.empty();
  assertEquals(bucket.msUntilToken(), 250);
  bucket.setRate(2, 1);
  assertEquals([bucket.take(), bucket.take(), bucket.take()], [
    true,
    true,
    false,
  ]);
  assertEquals(bucket.msUntilToken(), 1000);
});

Deno.test("a token bucket spends many tokens at once, or none when it has fewer", () => {
  let now = 0;
  const bytes = new TokenBucket(1000, 100, () => now);
  assertEquals(bytes.spend(600), true);
  assertEquals(bytes.spend(600), false); // 400 left: nothing spent
  assertEquals(bytes.spend(400), true);
  now += 1000;
  assertEquals([bytes.spend(101), bytes.spend(100)], [false, true]);
});
