import { assertEquals } from "../shared/_test_assert.ts";
import { pacedRate, pacerFor } from "./pacer.ts";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

Deno.test("a pacer keeps two messages of the burst and a tenth of the rate as margin", () => {
  assertEquals(pacedRate(10, 2), { burst: 8, perSecond: 1.8 });
  assertEquals(pacedRate(1, 1).burst, 1, "never below one message at once");
});

Deno.test("a pacer lets its burst go at once, then asks to wait for its rate", () => {
  const c = clock();
  const pacer = pacerFor(5, 0.5, c.now);
  for (let i = 0; i < 3; i++) {
    assertEquals(pacer.msUntilToken(), 0, `message ${i + 1} of the burst`);
    pacer.take();
  }
  assertEquals(pacer.msUntilToken(), 2223, "90 % of half a message per second");
  c.advance(2222);
  assertEquals(pacer.msUntilToken(), 1);
  c.advance(1);
  assertEquals(pacer.msUntilToken(), 0);
});
