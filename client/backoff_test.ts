import { Backoff } from "./backoff.ts";

function assertEquals(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(
      `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
    );
  }
}

Deno.test("backoff doubles from the initial delay up to the cap", () => {
  const high = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
  assertEquals([1, 2, 3, 4, 5, 6].map(() => high.next()), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
});

Deno.test("backoff jitter keeps each delay between half and all of its cap", () => {
  const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
  assertEquals([1, 2, 3, 4, 5].map(() => low.next()), [50, 100, 200, 400, 500]);
  const real = new Backoff({ initialMs: 100, maxMs: 1000 });
  for (let i = 0; i < 50; i++) {
    const cap = Math.min(1000, 100 * 2 ** Math.min(i, 30));
    const d = real.next();
    if (d < cap / 2 || d > cap) {
      throw new Error(`delay ${d} outside [${cap / 2}, ${cap}]`);
    }
  }
});

Deno.test("backoff starts over after reset", () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
  b.next();
  b.next();
  b.reset();
  assertEquals(b.next(), 100);
});
