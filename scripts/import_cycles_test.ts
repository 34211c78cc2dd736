import { assertEquals } from "../shared/_test_assert.ts";
import { findCycles, importGraph } from "./import_cycles.ts";

Deno.test("findCycles finds a two-module circle and a longer one, and nothing in a tree", () => {
  const tree = new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]]);
  assertEquals(findCycles(tree), []);
  const circles = new Map([
    ["hub", ["moderation"]],
    ["moderation", ["hub"]],
    ["x", ["y"]],
    ["y", ["z"]],
    ["z", ["x"]],
  ]);
  assertEquals(findCycles(circles), [
    ["hub", "moderation", "hub"],
    ["x", "y", "z", "x"],
  ]);
});

for (const entry of ["main.ts", "bench/main.ts", "bench/worker.ts"]) {
  Deno.test(`${entry}'s import graph has no cycle`, async () => {
    const url = new URL(`../${entry}`, import.meta.url).href;
    const graph = await importGraph(url);
    assertEquals(graph.has(url), true, "the entry is in its graph");
    assertEquals(findCycles(graph), []);
  });
}
