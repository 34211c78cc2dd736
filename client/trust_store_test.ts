import { join } from "node:path";
import { TrustStore } from "./trust_store.ts";
import { CliError } from "../shared/errors.ts";
import {
  assert,
  assertEquals,
  assertIncludes,
  assertRejects,
} from "../shared/_test_assert.ts";

const POSIX = Deno.build.os !== "windows";

const KEY_A = new Uint8Array(32).fill(0xa1);
const KEY_B = new Uint8Array(32).fill(0xb2);
const KEY_C = new Uint8Array(32).fill(0xc3);

async function withConfigDir(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "trust-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const trustFile = (dir: string, me: string) => join(dir, "trust", `${me}.json`);

/** Count calls to every Deno function that creates, changes or removes files while `fn` runs. */
async function countFileWrites(fn: () => Promise<void>): Promise<string[]> {
  const names = [
    "open",
    "openSync",
    "create",
    "createSync",
    "writeFile",
    "writeFileSync",
    "writeTextFile",
    "writeTextFileSync",
    "mkdir",
    "mkdirSync",
    "rename",
    "renameSync",
    "remove",
    "removeSync",
    "chmod",
    "chmodSync",
  ] as const;
  const deno = Deno as unknown as Record<string, (...a: unknown[]) => unknown>;
  const saved = names.map((name) => [name, deno[name]!] as const);
  const calls: string[] = [];
  for (const [name, original] of saved) {
    deno[name] = (...args: unknown[]) => {
      calls.push(name);
      return original.apply(Deno, args);
    };
  }
  try {
    await fn();
  } finally {
    for (const [name, original] of saved) deno[name] = original;
  }
  return calls;
}

Deno.test("trust store reports a key as new, then the same, then changed", async () => {
  const store = TrustStore.inMemory();
  assertEquals(await store.observe("bob", KEY_A), "new");
  assertEquals(await store.observe("bob", KEY_A), "same");
  assertEquals(await store.observe("bob", KEY_B), "changed");
  assertEquals(
    await store.observe("bob", KEY_B),
    "same",
    "the new key is remembered",
  );
});

Deno.test("trust store keeps users apart and folds the case of names", async () => {
  const store = TrustStore.inMemory();
  assertEquals(await store.observe("Bob", KEY_A), "new");
  assertEquals(await store.observe("bob", KEY_A), "same");
  assertEquals(await store.observe("carol", KEY_B), "new");
  assert(store.get("BOB") !== undefined);
  assertEquals(store.get("dave"), undefined);
});

Deno.test("trust store does not block a changed key that was never verified", async () => {
  const store = TrustStore.inMemory();
  await store.observe("bob", KEY_A);
  await store.observe("bob", KEY_B);
  assertEquals(store.isBlocked("bob"), false);
  assertEquals(store.get("bob")?.verified, false);
});

Deno.test("trust store blocks a user whose key changed after it was verified", async () => {
  const store = TrustStore.inMemory();
  await store.observe("bob", KEY_A);
  await store.verify("bob", KEY_A);
  assertEquals(store.isBlocked("bob"), false);
  assertEquals(await store.observe("bob", KEY_B), "changed");
  assertEquals(store.isBlocked("bob"), true);
  assertEquals(store.isBlocked("BOB"), true);
  assertEquals(store.get("bob")?.verified, false);
});

Deno.test("trust store keeps a blocked user blocked through a second key change", async () => {
  const store = TrustStore.inMemory();
  await store.verify("bob", KEY_A);
  await store.observe("bob", KEY_B);
  assertEquals(await store.observe("bob", KEY_C), "changed");
  assertEquals(store.isBlocked("bob"), true);
});

Deno.test("trust store verify clears the block and marks the user verified", async () => {
  const store = TrustStore.inMemory();
  await store.verify("bob", KEY_A);
  await store.observe("bob", KEY_B);
  await store.verify("bob", KEY_B);
  assertEquals(store.isBlocked("bob"), false);
  assertEquals(store.get("bob")?.verified, true);
  assertEquals(await store.observe("bob", KEY_B), "same");
});

Deno.test("trust store keeps what it learned across a reopen", async () => {
  await withConfigDir(async (dir) => {
    const first = await TrustStore.open(dir, "alice");
    await first.observe("bob", KEY_A);
    await first.verify("bob", KEY_A);
    await first.observe("bob", KEY_B);
    await first.observe("carol", KEY_C);

    const again = await TrustStore.open(dir, "alice");
    assertEquals(again.isBlocked("bob"), true);
    assertEquals(again.get("bob"), first.get("bob"));
    assertEquals(again.get("carol"), first.get("carol"));
    assertEquals(await again.observe("carol", KEY_C), "same");
    assertEquals(await again.observe("bob", KEY_B), "same");
  });
});

Deno.test("trust store keeps a separate file for each local user", async () => {
  await withConfigDir(async (dir) => {
    const alice = await TrustStore.open(dir, "Alice");
    await alice.observe("bob", KEY_A);
    const carol = await TrustStore.open(dir, "carol");
    assertEquals(carol.get("bob"), undefined);
    assertEquals(await carol.observe("bob", KEY_B), "new");
    assertEquals((await Deno.stat(trustFile(dir, "alice"))).isFile, true);
    assertEquals((await Deno.stat(trustFile(dir, "carol"))).isFile, true);
  });
});

Deno.test({
  name:
    "trust store writes its file readable only by its owner, in a private directory",
  ignore: !POSIX,
  fn: async () => {
    await withConfigDir(async (dir) => {
      const store = await TrustStore.open(dir, "alice");
      await store.observe("bob", KEY_A);
      await store.verify("bob", KEY_A);
      const fileMode = (await Deno.stat(trustFile(dir, "alice"))).mode! & 0o777;
      const dirMode = (await Deno.stat(join(dir, "trust"))).mode! & 0o777;
      assertEquals(fileMode.toString(8), "600");
      assertEquals(dirMode.toString(8), "700");
      const leftovers = [];
      for await (const e of Deno.readDir(join(dir, "trust"))) {
        leftovers.push(e.name);
      }
      assertEquals(leftovers, ["alice.json"], "no temp files left behind");
    });
  },
});

Deno.test({
  name:
    "trust store refuses to open a trust file others can read, and says to chmod it",
  ignore: !POSIX,
  fn: async () => {
    await withConfigDir(async (dir) => {
      const store = await TrustStore.open(dir, "alice");
      await store.observe("bob", KEY_A);
      const path = trustFile(dir, "alice");
      await Deno.chmod(path, 0o644);
      const error = await assertRejects(
        () => TrustStore.open(dir, "alice"),
        CliError,
      );
      assertIncludes(error.message, path);
      assertIncludes(error.message, "can be read by other users");
      assertEquals(error.hint, `run: chmod 600 ${path}`);
    });
  },
});

Deno.test("trust store opens empty when there is no trust file yet, and creates none until it learns something", async () => {
  await withConfigDir(async (dir) => {
    const store = await TrustStore.open(dir, "alice");
    assertEquals(store.get("bob"), undefined);
    const entries = [];
    for await (const e of Deno.readDir(dir)) entries.push(e.name);
    assertEquals(entries, []);
  });
});

Deno.test("an in-memory trust store works but writes nothing to disk", async () => {
  const memory = TrustStore.inMemory();
  const calls = await countFileWrites(async () => {
    await memory.observe("bob", KEY_A);
    await memory.verify("bob", KEY_A);
    await memory.observe("bob", KEY_B);
  });
  assertEquals(calls, []);
  assertEquals(memory.isBlocked("bob"), true);

  // The same count does see a store on disk write.
  await withConfigDir(async (dir) => {
    const disk = await TrustStore.open(dir, "alice");
    const diskCalls = await countFileWrites(() =>
      disk.observe("bob", KEY_A).then(() => {})
    );
    assert(diskCalls.length > 0, "the write counter missed a store on disk");
  });
});
