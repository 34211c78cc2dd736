/** Keys on disk: nothing is kept before a server accepted it, and a pending file is reused. */
import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "../shared/_test_assert.ts";
import { fingerprint } from "../shared/crypto/identity.ts";
import { CliError } from "../shared/errors.ts";
import {
  createIdentity,
  FirstLoginKeys,
  keyFilePath,
  loadIdentity,
  pendingKeyFilePath,
} from "./identity_store.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-keys-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
const modeOf = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test("first-login keys stay in memory until staged, then become the key file on accept", async () => {
  await withDir(async (dir) => {
    const keys = await FirstLoginKeys.open(dir, "Ann");
    assert(keys.isNew);
    assert(!await exists(join(dir, "keys")), "nothing on disk before stage");
    await keys.stage();
    assertEquals(await modeOf(pendingKeyFilePath(dir, "ann")), 0o600);
    assertEquals(await modeOf(join(dir, "keys")), 0o700);
    await keys.accept();
    assert(!keys.isNew);
    assert(!await exists(pendingKeyFilePath(dir, "ann")));
    assertEquals(await modeOf(keyFilePath(dir, "ann")), 0o600);
    const loaded = await loadIdentity(dir, "ann");
    assertEquals(
      await fingerprint(loaded!.identity),
      await fingerprint(keys.identity),
    );
  });
});

Deno.test("refused first-login keys leave no file", async () => {
  await withDir(async (dir) => {
    const keys = await FirstLoginKeys.open(dir, "ann");
    await keys.stage();
    await keys.refuse();
    assertEquals(await Array.fromAsync(Deno.readDir(join(dir, "keys"))), []);
    assertEquals(await loadIdentity(dir, "ann"), null);
  });
});

Deno.test("keys left pending by an earlier run are used again, and a second stager gets the first one's keys", async () => {
  await withDir(async (dir) => {
    const first = await FirstLoginKeys.open(dir, "ann");
    const second = await FirstLoginKeys.open(dir, "ann"); // before first stages
    const staged = await first.stage();
    const theirs = await second.stage();
    assertEquals(await fingerprint(theirs), await fingerprint(staged));
    const later = await FirstLoginKeys.open(dir, "ann"); // after a crash
    assert(later.isNew);
    assertEquals(
      await fingerprint(later.identity),
      await fingerprint(staged),
    );
    await later.accept();
    await second.accept(); // already renamed by `later`: fine
    assert(await exists(keyFilePath(dir, "ann")));
  });
});

Deno.test("saved keys are used as they are, and every step is a no-op for them", async () => {
  await withDir(async (dir) => {
    const made = await createIdentity(dir, "ann");
    assert(made.created);
    const keys = await FirstLoginKeys.open(dir, "ann");
    assert(!keys.isNew);
    await keys.stage();
    await keys.refuse();
    assert(
      await exists(keyFilePath(dir, "ann")),
      "refuse never deletes saved keys",
    );
    assert(!await exists(pendingKeyFilePath(dir, "ann")));
  });
});

Deno.test("createIdentity adopts pending keys instead of making others", async () => {
  await withDir(async (dir) => {
    const keys = await FirstLoginKeys.open(dir, "ann");
    const staged = await keys.stage();
    const made = await createIdentity(dir, "ann");
    assert(made.created);
    assertEquals(await fingerprint(made.identity), await fingerprint(staged));
    assert(!await exists(pendingKeyFilePath(dir, "ann")));
    const again = await createIdentity(dir, "ann");
    assert(!again.created);
  });
});

Deno.test("keys for a name that is not a valid user name are refused with a hint, not a usage error", async () => {
  await withDir(async (dir) => {
    const error = await assertRejects(
      () => loadIdentity(dir, "bad name"),
      CliError,
      'invalid --user "bad name"',
    );
    assertEquals(error.hint, "pick a name like alice or bob_2");
    assertEquals(error.usage, false);
  });
});

Deno.test("a key file that is not JSON is refused with a message saying to restore it", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(join(dir, "keys"), { mode: 0o700 });
    await Deno.writeTextFile(keyFilePath(dir, "ann"), "{ not json", {
      mode: 0o600,
    });
    await assertRejects(
      () => loadIdentity(dir, "ann"),
      CliError,
      "is not valid JSON; restore it from a backup",
    );
  });
});
