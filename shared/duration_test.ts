import { formatDuration, parseDuration } from "./duration.ts";
import { assertEquals, assertThrows } from "./_test_assert.ts";

const good: [string, number][] = [
  ["500ms", 500],
  ["30s", 30_000],
  ["1.5s", 1500],
  ["5m", 300_000],
  ["2h", 7_200_000],
  ["7d", 604_800_000],
  [" 10s ", 10_000],
];
for (const [text, ms] of good) {
  Deno.test(`parseDuration reads ${JSON.stringify(text)} as ${ms} ms`, () => {
    assertEquals(parseDuration(text), ms);
  });
}

for (
  const bad of ["", "10", "s", "-5s", "5 s", "5x", "1e3s", "99999999999999999d"]
) {
  Deno.test(`parseDuration refuses ${JSON.stringify(bad)} with a hint`, () => {
    assertThrows(() => parseDuration(bad), RangeError, "");
  });
}

Deno.test("formatDuration picks the largest whole unit", () => {
  assertEquals(
    [500, 1000, 90_000, 120_000, 3_600_000, 86_400_000].map(formatDuration),
    ["500ms", "1s", "90s", "2m", "1h", "1d"],
  );
});
