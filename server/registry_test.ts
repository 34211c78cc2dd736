/**
 * The registry over a real SQLite file: first key wins a name, the same
 * user's concurrent logins (two devices, registrations group-committed in
 * one turn) both succeed, and a different key racing for the same name loses.
 */
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { AuthError } from "../shared/errors.ts";
import { UserRegistry } from "./registry.ts";
import { SqliteHistoryStore } from "./store/sqlite_store.ts";

async function withRegistry(
  fn: (registry: UserRegistry, store: SqliteHistoryStore) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-registry-" });
  const store = new SqliteHistoryStore(`${dir}/chat.db`);
  try {
    await fn(new UserRegistry(store), store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function identity(user: string, seed: number) {
  return {
    user,
    uid: `00000000-0000-4000-8000-${String(seed).padStart(12, "0")}`,
    idKey: new Uint8Array(32).fill(seed),
    encKey: new Uint8Array(398).fill(seed),
  };
}

Deno.test("the same new user logging in twice at once gets one registration, both succeed", async () => {
  await withRegistry(async (registry, store) => {
    const alice = identity("alice", 1);
    const [a, b] = await Promise.all([
      registry.claim(alice),
      registry.claim({ ...alice, idKey: alice.idKey.slice() }),
    ]);
    assertEquals(a.userKey, "alice");
    assertEquals(b.userKey, "alice");
    assertEquals((await store.getUser("alice"))?.uid, alice.uid);
  });
});

Deno.test("two keys racing for one new name: exactly one wins, the other is told the name is taken", async () => {
  await withRegistry(async (registry, store) => {
    const outcomes = await Promise.allSettled([
      registry.claim(identity("carol", 2)),
      registry.claim(identity("carol", 3)),
    ]);
    const won = outcomes.filter((o) => o.status === "fulfilled");
    const lost = outcomes.filter((o) => o.status === "rejected");
    assertEquals([won.length, lost.length], [1, 1]);
    const reason = (lost[0] as PromiseRejectedResult).reason;
    assert(reason instanceof AuthError, String(reason));
    assertEquals(reason.code, "name_taken");
    const stored = await store.getUser("carol");
    const winner = (won[0] as PromiseFulfilledResult<{ uid: string }>).value;
    assertEquals(stored?.uid, winner.uid);
    // and later logins: the owner gets in, the other key stays out
    assertEquals(
      (await registry.claim(identity("carol", stored!.idKey[0]!))).uid,
      winner.uid,
    );
  });
});
