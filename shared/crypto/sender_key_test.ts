import {
  newSenderKey,
  type ReceivedWrap,
  type SenderKey,
  unwrapSenderKey,
  wrapLabel,
  wrapSenderKey,
} from "./sender_key.ts";
import { generateIdentity, sign } from "./identity.ts";
import { canonicalEncode, LABELS } from "../canonical.ts";
import { fromBase64Url, toBase64Url } from "../bytes.ts";
import { CryptoError } from "../errors.ts";
import {
  assert,
  assertEquals,
  assertNotEquals,
  assertRejects,
} from "../_test_assert.ts";

// RSA-3072 generation takes about a second: make the identities once.
const alice = await generateIdentity("alice");
const bob = await generateIdentity("bob");
const carol = await generateIdentity("carol");

const ROOM = "general";
const EPOCH = 3;
const ROSTER = 7;

async function wrapFor(
  key: SenderKey,
  recipient: { user: string; encryptKey: CryptoKey },
): Promise<ReceivedWrap> {
  const wrap = await wrapSenderKey(key, ROSTER, recipient, alice.signingKey);
  assertEquals(wrap.to, recipient.user);
  return {
    room: key.room,
    from: "alice",
    epoch: key.epoch,
    roster: ROSTER,
    wrap: wrap.wrap,
    sig: wrap.sig,
  };
}

/**
 * A wrap whose RSA-OAEP label says one thing and whose (valid) signature says
 * another: lets a test reach the RSA step with a signature that passes.
 */
async function forgedWrap(
  secret: Uint8Array<ArrayBuffer>,
  label: { room: string; epoch: number; recipient: string },
  signed: { room: string; epoch: number; recipient: string },
  encryptKey: CryptoKey,
): Promise<ReceivedWrap> {
  const wrap = new Uint8Array(
    await crypto.subtle.encrypt(
      {
        name: "RSA-OAEP",
        label: wrapLabel(label.room, "alice", label.epoch, label.recipient),
      },
      encryptKey,
      secret,
    ),
  );
  const sig = await sign(
    alice.signingKey,
    canonicalEncode(LABELS.keyDistribution, [
      signed.room,
      "alice",
      signed.epoch,
      ROSTER,
      signed.recipient,
      wrap,
    ]),
  );
  return {
    room: signed.room,
    from: "alice",
    epoch: signed.epoch,
    roster: ROSTER,
    wrap: toBase64Url(wrap),
    sig: toBase64Url(sig),
  };
}

function flipBit(text: string, byte: number): string {
  const bytes = fromBase64Url(text);
  bytes[byte]! ^= 0x01;
  return toBase64Url(bytes);
}

Deno.test("newSenderKey makes 32 random bytes for a room, folded sender and epoch", () => {
  const a = newSenderKey(ROOM, "Alice", EPOCH);
  const b = newSenderKey(ROOM, "alice", EPOCH);
  assertEquals(a.room, ROOM);
  assertEquals(a.sender, "alice");
  assertEquals(a.epoch, EPOCH);
  assertEquals(a.key.length, 32);
  assertNotEquals(a.key, b.key);
});

Deno.test("wrapLabel binds room, sender, epoch and recipient, folding name case", () => {
  const base = wrapLabel(ROOM, "alice", 1, "bob");
  assertEquals(wrapLabel(ROOM, "ALICE", 1, "Bob"), base);
  assertNotEquals(wrapLabel("random", "alice", 1, "bob"), base);
  assertNotEquals(wrapLabel(ROOM, "carol", 1, "bob"), base);
  assertNotEquals(wrapLabel(ROOM, "alice", 2, "bob"), base);
  assertNotEquals(wrapLabel(ROOM, "alice", 1, "carol"), base);
});

Deno.test("a wrapped sender key unwraps to the same 32 bytes for its recipient", async () => {
  const key = newSenderKey(ROOM, "alice", EPOCH);
  for (const recipient of [bob, carol, alice]) {
    const received = await wrapFor(key, recipient);
    const unwrapped = await unwrapSenderKey(
      received,
      recipient,
      alice.verifyKey,
    );
    assertEquals(unwrapped.key, key.key, recipient.user);
    assertEquals(unwrapped.room, ROOM);
    assertEquals(unwrapped.sender, "alice");
    assertEquals(unwrapped.epoch, EPOCH);
  }
});

Deno.test("each recipient gets a different wrap of the same key", async () => {
  const key = newSenderKey(ROOM, "alice", EPOCH);
  const forBob = await wrapFor(key, bob);
  const forCarol = await wrapFor(key, carol);
  assertNotEquals(forBob.wrap, forCarol.wrap);
  assertNotEquals(forBob.sig, forCarol.sig);
});

Deno.test("unwrap under a different recipient name fails with CryptoError", async () => {
  const key = newSenderKey(ROOM, "alice", EPOCH);
  const received = await wrapFor(key, bob);
  await assertRejects(
    () =>
      unwrapSenderKey(
        received,
        { user: "carol", decryptKey: bob.decryptKey },
        alice.verifyKey,
      ),
    CryptoError,
  );
  await assertRejects(
    () => unwrapSenderKey(received, carol, alice.verifyKey),
    CryptoError,
  );
});

Deno.test("the RSA-OAEP label binds the recipient even when the signature passes", async () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const forBob = { room: ROOM, epoch: EPOCH, recipient: "bob" };
  const forCarol = { room: ROOM, epoch: EPOCH, recipient: "carol" };
  // Control: label and signature agree, so this exact construction unwraps.
  const honest = await forgedWrap(secret, forBob, forBob, bob.encryptKey);
  assertEquals(
    (await unwrapSenderKey(honest, bob, alice.verifyKey)).key,
    secret,
  );
  // Signed for carol, but the OAEP label names bob: the RSA step must refuse.
  const relabelled = await forgedWrap(secret, forBob, forCarol, bob.encryptKey);
  await assertRejects(
    () =>
      unwrapSenderKey(
        relabelled,
        { user: "carol", decryptKey: bob.decryptKey },
        alice.verifyKey,
      ),
    CryptoError,
    "could not be unwrapped",
  );
});

Deno.test("the RSA-OAEP label binds the room and epoch even when the signature passes", async () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const real = { room: ROOM, epoch: EPOCH, recipient: "bob" };
  for (
    const signed of [{ ...real, room: "random" }, { ...real, epoch: EPOCH + 1 }]
  ) {
    const received = await forgedWrap(secret, real, signed, bob.encryptKey);
    await assertRejects(
      () => unwrapSenderKey(received, bob, alice.verifyKey),
      CryptoError,
      "could not be unwrapped",
    );
  }
});

Deno.test("unwrap fails when the room, epoch, roster or sender is changed in transit", async () => {
  const key = newSenderKey(ROOM, "alice", EPOCH);
  const received = await wrapFor(key, bob);
  const changed: [string, ReceivedWrap][] = [
    ["room", { ...received, room: "random" }],
    ["epoch", { ...received, epoch: EPOCH + 1 }],
    ["roster", { ...received, roster: ROSTER + 1 }],
    ["from", { ...received, from: "carol" }],
  ];
  for (const [what, other] of changed) {
    await assertRejects(
      () => unwrapSenderKey(other, bob, alice.verifyKey),
      CryptoError,
      "bad signature",
    ).catch((error) => {
      throw new Error(what, { cause: error });
    });
  }
});

Deno.test("unwrap checks the signature before touching the RSA private key", async () => {
  const key = newSenderKey(ROOM, "alice", EPOCH);
  const received = await wrapFor(key, bob);
  const tampered = { ...received, sig: flipBit(received.sig, 5) };
  let touched = false;
  const me = {
    user: "bob",
    get decryptKey(): CryptoKey {
      touched = true;
      throw new Error("the RSA key was used");
    },
  };
  const error = await assertRejects(
    () => unwrapSenderKey(tampered, me, alice.verifyKey),
    CryptoError,
    "bad signature",
  );
  assertEquals(error.cause, undefined);
  assert(!touched, "decryptKey was read before the signature was checked");
});

Deno.test("a tampered signature fails as a signature error before any RSA decrypt", async () => {
  // An AES key makes crypto.subtle.decrypt fail with a WebCrypto error (not a
  // CryptoError). If the RSA step ran first, that error would be the cause.
  const aes = await crypto.subtle.generateKey(
    { name: "AES-GCM", length: 256 },
    false,
    [
      "encrypt",
      "decrypt",
    ],
  );
  const key = newSenderKey(ROOM, "alice", EPOCH);
  const received = await wrapFor(key, bob);
  const me = { user: "bob", decryptKey: aes };
  // Control: with a good signature the wrong-algorithm key is reached and fails.
  const reached = await assertRejects(
    () => unwrapSenderKey(received, me, alice.verifyKey),
    CryptoError,
    "could not be unwrapped",
  );
  assert(
    reached.cause !== undefined && !(reached.cause instanceof CryptoError),
  );
  // With a bad signature it never is.
  const tampered = { ...received, sig: flipBit(received.sig, 0) };
  const error = await assertRejects(
    () => unwrapSenderKey(tampered, me, alice.verifyKey),
    CryptoError,
    "bad signature",
  );
  assertEquals(error.cause, undefined);
});

Deno.test("a tampered wrap fails with CryptoError", async () => {
  const key = newSenderKey(ROOM, "alice", EPOCH);
  const received = await wrapFor(key, bob);
  for (const byte of [0, 100, 383]) {
    await assertRejects(
      () =>
        unwrapSenderKey(
          { ...received, wrap: flipBit(received.wrap, byte) },
          bob,
          alice.verifyKey,
        ),
      CryptoError,
      "bad signature",
    );
  }
  await assertRejects(
    () =>
      unwrapSenderKey(
        { ...received, wrap: received.wrap.slice(0, -4) },
        bob,
        alice.verifyKey,
      ),
    CryptoError,
  );
});

Deno.test("a wrap tampered and re-signed by the sender still fails the RSA step", async () => {
  const key = newSenderKey(ROOM, "alice", EPOCH);
  const received = await wrapFor(key, bob);
  const wrap = fromBase64Url(flipBit(received.wrap, 200));
  const sig = await sign(
    alice.signingKey,
    canonicalEncode(LABELS.keyDistribution, [
      ROOM,
      "alice",
      EPOCH,
      ROSTER,
      "bob",
      wrap,
    ]),
  );
  await assertRejects(
    () =>
      unwrapSenderKey(
        { ...received, wrap: toBase64Url(wrap), sig: toBase64Url(sig) },
        bob,
        alice.verifyKey,
      ),
    CryptoError,
    "could not be unwrapped",
  );
});

Deno.test("unwrap fails when checked against the wrong sender's verify key", async () => {
  const key = newSenderKey(ROOM, "alice", EPOCH);
  const received = await wrapFor(key, bob);
  await assertRejects(
    () => unwrapSenderKey(received, bob, carol.verifyKey),
    CryptoError,
    "bad signature",
  );
});

Deno.test("unwrap refuses a wrap or signature that is not base64url", async () => {
  const key = newSenderKey(ROOM, "alice", EPOCH);
  const received = await wrapFor(key, bob);
  await assertRejects(
    () =>
      unwrapSenderKey(
        { ...received, wrap: received.wrap + "=" },
        bob,
        alice.verifyKey,
      ),
    CryptoError,
    "base64url",
  );
  await assertRejects(
    () => unwrapSenderKey({ ...received, sig: "a+b" }, bob, alice.verifyKey),
    CryptoError,
    "base64url",
  );
});

Deno.test("unwrap refuses a correctly signed key that is not 32 bytes", async () => {
  const short = crypto.getRandomValues(new Uint8Array(16));
  const target = { room: ROOM, epoch: EPOCH, recipient: "bob" };
  const received = await forgedWrap(short, target, target, bob.encryptKey);
  await assertRejects(
    () => unwrapSenderKey(received, bob, alice.verifyKey),
    CryptoError,
    "bad length",
  );
});
