/**
 * The login throttle: exponential delays per address and per name (by
 * look-alike skeleton), never a lockout of the registered key; and
 * checkLogin under it, over a real registry.
 */
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { AuthError } from "../shared/errors.ts";
import { toBase64Url } from "../shared/bytes.ts";
import { generateIdentity, type Identity } from "../shared/crypto/identity.ts";
import { signLogin } from "../shared/crypto/login.ts";
import type { LoginFrame } from "../shared/protocol.ts";
import { Admission } from "./admission.ts";
import { checkLogin, type LoginChecker } from "./login_check.ts";
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from "./login_throttle.ts";
import { UserRegistry } from "./registry.ts";
import { SqliteHistoryStore } from "./store/sqlite_store.ts";

Deno.test("failures from an address are free up to the limit, then each doubles the delay up to the cap", () => {
  let now = 0;
  const throttle = new LoginThrottle(3, DEFAULT_LOGIN_THROTTLE, () => now);
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    throttle.countFailure("10.0.0.1", `user${i}`);
    delays.push(throttle.waitMs("10.0.0.1", "someone-else"));
  }
  assertEquals(delays, [
    0,
    0,
    1000,
    2000,
    4000,
    8000,
    16000,
    32000,
    60000,
    60000,
  ]);
  assertEquals(throttle.waitMs("10.0.0.2", "someone-else"), 0);
  now += 60_000;
  assertEquals(throttle.waitMs("10.0.0.1", "someone-else"), 0);
  throttle.countFailure("10.0.0.1", "x"); // counting goes on: the next delay is the cap
  assertEquals(throttle.waitMs("10.0.0.1", "y"), 60_000);
  now += DEFAULT_LOGIN_THROTTLE.perAddress.forgetAfterMs;
  assertEquals(throttle.waitMs("10.0.0.1", "y"), 0);
  throttle.countFailure("10.0.0.1", "z"); // forgotten: free again
  assertEquals(throttle.waitMs("10.0.0.1", "w"), 0);
});

Deno.test("failures at one name from many addresses delay that name and its look-alikes, not others", () => {
  const now = 0;
  const throttle = new LoginThrottle(2, DEFAULT_LOGIN_THROTTLE, () => now);
  for (let i = 0; i < 5; i++) throttle.countFailure(`10.0.0.${i}`, "dave");
  assertEquals(throttle.waitMs("10.9.9.9", "dave"), 8000);
  assertEquals(throttle.waitMs("10.9.9.9", "clave"), 8000);
  assertEquals(throttle.waitMs("10.9.9.9", "DAVE-"), 8000);
  assertEquals(throttle.waitMs("10.9.9.9", "erin"), 0);
  throttle.recordSuccess("dave"); // dave logged in with his key
  assertEquals(throttle.waitMs("10.9.9.9", "dave"), 0);
  assertEquals(throttle.blocked("10.0.0.1"), false); // never a lockout
});

/** A checker over a fresh store; `fn` runs with it. */
async function withChecker(
  fn: (checker: LoginChecker) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-throttle-" });
  const store = new SqliteHistoryStore(`${dir}/chat.db`);
  try {
    await fn({
      serverNames: ["127.0.0.1"],
      registry: new UserRegistry(store),
      admission: new Admission(store, new Set(), false),
    });
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const challenge = { session: "s1", nonce: new Uint8Array(16).fill(7) };

async function frameFor(id: Identity, forge = false): Promise<LoginFrame> {
  const sig = await signLogin(id.signingKey, {
    server: "127.0.0.1",
    ...challenge,
    uid: id.uid,
    user: id.user,
    idKey: id.idKey,
    encKey: id.encKey,
  });
  if (forge) sig[0]! ^= 1;
  return {
    t: "login",
    user: id.user,
    uid: id.uid,
    server: "127.0.0.1",
    idKey: toBase64Url(id.idKey),
    encKey: toBase64Url(id.encKey),
    sig: toBase64Url(sig),
  };
}

/** checkLogin as a connection from `ip` under `throttle`: its outcome's code. */
function attempt(
  throttle: LoginThrottle,
  ip: string,
  frame: LoginFrame,
  checker: LoginChecker,
): Promise<string> {
  let outcome!: Promise<string>;
  throttle.throttling(() => {
    outcome = checkLogin(frame, checker, challenge).then(
      () => "ok",
      (error) => {
        assert(error instanceof AuthError, String(error));
        return error.code;
      },
    );
  })({ remoteAddress: ip });
  return outcome;
}

Deno.test("guesses from an address are slowed, but the registered key from that address still logs in", async () => {
  const alice = await generateIdentity("alice");
  const mallory = await generateIdentity("mallory");
  await withChecker(async (checker) => {
    const throttle = new LoginThrottle(3);
    const nat = "192.0.2.1";
    assertEquals(
      await attempt(throttle, nat, await frameFor(alice), checker),
      "ok",
    );
    const forged = await frameFor(alice, true);
    const codes = [];
    for (let i = 0; i < 5; i++) {
      codes.push(await attempt(throttle, nat, forged, checker));
    }
    assertEquals(codes, [
      "auth_failed",
      "auth_failed",
      "auth_failed",
      "too_many_failures",
      "too_many_failures",
    ]);
    // a new name from that address waits too…
    const newcomer = await frameFor(mallory);
    assertEquals(
      await attempt(throttle, nat, newcomer, checker),
      "too_many_failures",
    );
    // …but alice's own key does not, and neither does another address
    assertEquals(
      await attempt(throttle, nat, await frameFor(alice), checker),
      "ok",
    );
    assertEquals(await attempt(throttle, "192.0.2.2", newcomer, checker), "ok");
  });
});

Deno.test("guesses at one name from many addresses are slowed by the name's count", async () => {
  const alice = await generateIdentity("alice");
  const impostor = await generateIdentity("alice"); // same name, other keys
  await withChecker(async (checker) => {
    const throttle = new LoginThrottle(3);
    assertEquals(
      await attempt(throttle, "198.51.100.1", await frameFor(alice), checker),
      "ok",
    );
    const guess = await frameFor(impostor);
    const codes = [];
    for (let i = 0; i < 5; i++) {
      codes.push(await attempt(throttle, `203.0.113.${i}`, guess, checker));
    }
    assertEquals(codes, [
      "name_taken",
      "name_taken",
      "name_taken",
      "too_many_failures",
      "too_many_failures",
    ]);
    assertEquals(
      await attempt(throttle, "203.0.113.9", await frameFor(alice), checker),
      "ok",
    );
  });
});
