/**
 * End-to-end: ASCII look-alikes of a registered name are refused at
 * registration (issue 13, item 7).
 */
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import { ClientProcess, ServerProcess } from "./_harness.ts";

Deno.test("registering clave after dave is refused as a look-alike", async () => {
  await using server = await ServerProcess.start();
  await using dave = await ClientProcess.ready(server, "dave");
  for (const lookalike of ["clave", "dave-"]) {
    await using copy = ClientProcess.start(server, lookalike, {
      configHome: join(server.dir, `${lookalike}-home`),
    });
    assertEquals(await copy.end(), 1);
    const stderr = copy.stderr.items.join("\n");
    assertIncludes(stderr, "too similar");
    assertIncludes(stderr, `registered "dave"`);
    assert(!stderr.includes("created keys"), stderr);
  }
  await dave.say("still dave");
  assertEquals(await dave.end(), 0);
});
