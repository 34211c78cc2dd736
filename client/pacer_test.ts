import { assertEquals } from "../shared/_test_assert.ts";
import { Pacer } from "./pacer.ts";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

Deno.test("a pacer lets a burst go at once, then asks to wait for the rate", () => {
  const c = clock();
  const pacer = new Pacer(3, 2, c.now);
  for (let i = 0; i < 3; i++) {
    assertEquals(pacer.delay(), 0, `message ${i + 1} of the burst`);
    pacer.take();
  }
  assertEquals(pacer.delay(), 500, "2 per second: the next one in 500 ms");
  c.advance(499);
  assertEquals(pacer.delay(), 1);
  c.advance(1);
  assertEquals(pacer.delay(), 0);
});

Deno.test("a pacer refills up to its burst and no further", () => {
  const c = clock();
  const pacer = new Pacer(2, 1, c.now);
  pacer.take();
  pacer.take();
  c.advance(60_000);
  pacer.take();
  pacer.take();
  assertEquals(pacer.delay(), 1000, "a minute idle refills only the burst");
});

Deno.test("a pacer emptied after a refusal waits a full interval", () => {
  const c = clock();
  const pacer = new Pacer(10, 4, c.now);
  assertEquals(pacer.delay(), 0);
  pacer.empty();
  assertEquals(pacer.delay(), 250);
});

Deno.test("a pacer adopts the server's announced rate full, keeping a margin below it", () => {
  const c = clock();
  const pacer = new Pacer(1, 1, c.now);
  pacer.take();
  assertEquals(pacer.delay(), 1000);
  pacer.setRate(5, 0.5);
  for (let i = 0; i < 3; i++) {
    assertEquals(pacer.delay(), 0, `message ${i + 1}: 2 of the burst unused`);
    pacer.take();
  }
  assertEquals(pacer.delay(), 2223, "90 % of half a message per second");
});
