import {
  decodePublicIdentity,
  exportIdentity,
  fingerprint,
  formatFingerprint,
  generateIdentity,
  type Identity,
  importEncryptKey,
  importIdentity,
  importVerifyKey,
  type PublicIdentity,
  safetyNumber,
  safetyNumbersMatch,
  sameKeys,
  shortFingerprint,
  sign,
  type StoredIdentity,
  verify,
} from "./identity.ts";
import { canonicalEncode, LABELS } from "../canonical.ts";
import { fromBase64Url, toBase64Url, toHex, utf8 } from "../bytes.ts";
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
const aliceStored = await exportIdentity(
  alice,
  new Date("2024-01-02T03:04:05Z"),
);
const bobStored = await exportIdentity(bob);

function publicOf(identity: PublicIdentity): PublicIdentity {
  return {
    user: identity.user,
    uid: identity.uid,
    idKey: identity.idKey,
    encKey: identity.encKey,
  };
}

async function rsaSpki(
  modulusLength: number,
  publicExponent: number[],
): Promise<Uint8Array<ArrayBuffer>> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSA-OAEP",
      modulusLength,
      publicExponent: new Uint8Array(publicExponent),
      hash: "SHA-256",
    },
    true,
    ["encrypt", "decrypt"],
  ) as CryptoKeyPair;
  return new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
}

async function rsaPkcs8(modulusLength: number): Promise<string> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSA-OAEP",
      modulusLength,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["encrypt", "decrypt"],
  ) as CryptoKeyPair;
  return toBase64Url(
    new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey)),
  );
}

async function assertSignsAndDecrypts(
  signer: Identity,
  checker: Identity,
): Promise<void> {
  const message = utf8("sign me");
  const sig = await sign(signer.signingKey, message);
  assert(await verify(checker.verifyKey, sig, message), "signature verifies");
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const wrapped = await crypto.subtle.encrypt(
    { name: "RSA-OAEP" },
    checker.encryptKey,
    secret,
  );
  const unwrapped = new Uint8Array(
    await crypto.subtle.decrypt(
      { name: "RSA-OAEP" },
      signer.decryptKey,
      wrapped,
    ),
  );
  assertEquals(unwrapped, secret, "decrypts what the public key encrypted");
}

Deno.test("generateIdentity makes a 32-byte Ed25519 key and an RSA-OAEP-3072 e=65537 key", async () => {
  assertEquals(alice.user, "alice");
  assert(/^[0-9a-f-]{36}$/.test(alice.uid), alice.uid);
  assertNotEquals(alice.uid, bob.uid);
  assertEquals(alice.idKey.length, 32);
  const alg = alice.encryptKey.algorithm as RsaHashedKeyAlgorithm;
  assertEquals(alg.modulusLength, 3072);
  assertEquals(alg.publicExponent, new Uint8Array([1, 0, 1]));
  assertEquals((alg.hash as Algorithm).name, "SHA-256");
  await assertSignsAndDecrypts(alice, alice);
});

Deno.test("exportIdentity writes a versioned, base64url key file", () => {
  assertEquals(aliceStored.format, "chat-identity-v1");
  assertEquals(aliceStored.user, "alice");
  assertEquals(aliceStored.uid, alice.uid);
  assertEquals(aliceStored.created, "2024-01-02T03:04:05.000Z");
  assertEquals(fromBase64Url(aliceStored.idPublic), alice.idKey);
  assertEquals(fromBase64Url(aliceStored.encPublic), alice.encKey);
  for (const field of ["idPrivate", "encPrivate"] as const) {
    assert(/^[A-Za-z0-9_-]+$/.test(aliceStored[field]), field);
  }
});

Deno.test("an identity survives export and import: it still signs, verifies, encrypts and decrypts", async () => {
  const restored = await importIdentity(structuredClone(aliceStored));
  assertEquals(restored.user, alice.user);
  assertEquals(restored.uid, alice.uid);
  assertEquals(restored.idKey, alice.idKey);
  assertEquals(restored.encKey, alice.encKey);
  await assertSignsAndDecrypts(restored, restored);
  await assertSignsAndDecrypts(restored, alice);
  await assertSignsAndDecrypts(alice, restored);
  assertEquals(await fingerprint(restored), await fingerprint(alice));
});

Deno.test("importIdentity keeps both private keys non-extractable, and its signatures verify with WebCrypto", async () => {
  const restored = await importIdentity(structuredClone(aliceStored));
  assertEquals(restored.signingKey.extractable, false);
  assertEquals(restored.decryptKey.extractable, false);
  const message = utf8("sign me");
  const sig = await sign(restored.signingKey, message);
  assert(
    await crypto.subtle.verify("Ed25519", alice.verifyKey, sig, message),
  );
  const reference = new Uint8Array(
    await crypto.subtle.sign("Ed25519", restored.signingKey, message),
  );
  assertEquals(sig, reference);
});

Deno.test("importIdentity refuses an unknown key file format", async () => {
  await assertRejects(
    () =>
      importIdentity({
        ...aliceStored,
        format: "chat-identity-v2",
      } as unknown as StoredIdentity),
    CryptoError,
    "format",
  );
});

Deno.test("importIdentity of a damaged key file throws CryptoError, never a raw WebCrypto error", async () => {
  const damaged: Partial<StoredIdentity>[] = [
    { idPrivate: aliceStored.idPrivate.slice(0, -10) },
    { idPrivate: "!!!" },
    { encPrivate: aliceStored.encPrivate.slice(0, 200) },
    { encPrivate: aliceStored.idPrivate },
    { idPrivate: aliceStored.encPrivate },
    { idPublic: toBase64Url(alice.idKey.subarray(0, 31)) },
    { idPublic: "a+b" },
    { encPublic: toBase64Url(alice.encKey.subarray(0, 100)) },
    { encPublic: "" },
  ];
  for (const change of damaged) {
    await assertRejects(
      () => importIdentity({ ...aliceStored, ...change }),
      CryptoError,
      undefined,
    );
  }
});

Deno.test("importIdentity refuses a stored RSA private key that is not 3072 bits", async () => {
  await assertRejects(
    async () =>
      importIdentity({ ...aliceStored, encPrivate: await rsaPkcs8(2048) }),
    CryptoError,
    "RSA-OAEP-3072",
  );
});

// SOURCE BUG (shared/crypto/identity.ts, importIdentity): the stored public
// keys are never checked against the private keys, so a key file whose
// idPublic/encPublic were swapped for someone else's imports "successfully"
// and yields an identity that advertises keys it cannot use.
Deno.test("importIdentity refuses a key file whose identity public key does not match its private key", async () => {
  await assertRejects(
    () => importIdentity({ ...aliceStored, idPublic: bobStored.idPublic }),
    CryptoError,
  );
});

Deno.test("importIdentity refuses a key file whose encryption public key does not match its private key", async () => {
  await assertRejects(
    () => importIdentity({ ...aliceStored, encPublic: bobStored.encPublic }),
    CryptoError,
  );
});

Deno.test("importEncryptKey accepts an RSA-OAEP-3072 e=65537 public key", async () => {
  const key = await importEncryptKey(alice.encKey);
  const alg = key.algorithm as RsaHashedKeyAlgorithm;
  assertEquals(alg.modulusLength, 3072);
});

Deno.test("importEncryptKey refuses a 2048-bit RSA key", async () => {
  const spki = await rsaSpki(2048, [1, 0, 1]);
  await assertRejects(
    () => importEncryptKey(spki),
    CryptoError,
    "RSA-OAEP-3072",
  );
});

Deno.test("importEncryptKey refuses a 3072-bit RSA key with e=3", async () => {
  const spki = await rsaSpki(3072, [3]);
  await assertRejects(() => importEncryptKey(spki), CryptoError, "e=65537");
});

Deno.test("importEncryptKey refuses bytes that are not an RSA public key", async () => {
  await assertRejects(() => importEncryptKey(new Uint8Array(0)), CryptoError);
  await assertRejects(() => importEncryptKey(alice.idKey), CryptoError);
  await assertRejects(
    () => importEncryptKey(alice.encKey.subarray(0, 300)),
    CryptoError,
  );
});

Deno.test("importVerifyKey accepts 32 bytes and refuses 31 or 33", async () => {
  const key = await importVerifyKey(alice.idKey);
  const message = utf8("hello");
  assert(await verify(key, await sign(alice.signingKey, message), message));
  await assertRejects(
    () => importVerifyKey(alice.idKey.subarray(0, 31)),
    CryptoError,
    "32 bytes",
  );
  await assertRejects(
    () => importVerifyKey(new Uint8Array([...alice.idKey, 0])),
    CryptoError,
    "32 bytes",
  );
});

Deno.test("verify returns false (never throws) for a wrong, truncated or foreign signature", async () => {
  const message = utf8("hello");
  const sig = await sign(alice.signingKey, message);
  assert(await verify(alice.verifyKey, sig, message));
  assert(!await verify(alice.verifyKey, sig, utf8("hellO")));
  assert(!await verify(bob.verifyKey, sig, message));
  assert(!await verify(alice.verifyKey, sig.slice(0, 63), message));
  assert(!await verify(alice.verifyKey, new Uint8Array(64), message));
  const flipped = sig.slice();
  flipped[10]! ^= 1;
  assert(!await verify(alice.verifyKey, flipped, message));
});

Deno.test("decodePublicIdentity decodes base64url keys", () => {
  const decoded = decodePublicIdentity({
    user: "alice",
    uid: alice.uid,
    idKey: toBase64Url(alice.idKey),
    encKey: toBase64Url(alice.encKey),
  });
  assertEquals(decoded, publicOf(alice));
});

Deno.test("fingerprint is 32 bytes and stable for the same public identity", async () => {
  const fp = await fingerprint(publicOf(alice));
  assertEquals(fp.length, 32);
  assertEquals(await fingerprint(publicOf(alice)), fp);
  assertEquals(await fingerprint(alice), fp, "private keys do not change it");
  assertEquals(
    await fingerprint({ ...publicOf(alice), user: "ALICE" }),
    fp,
    "the name is case-folded",
  );
});

Deno.test("fingerprint is crypto.subtle.digest SHA-256 of the labelled fields", async () => {
  const labelled = canonicalEncode(LABELS.fingerprint, [
    "alice",
    alice.uid,
    alice.idKey,
    alice.encKey,
  ]);
  assertEquals(
    await fingerprint({ ...publicOf(alice), user: "Alice" }),
    new Uint8Array(await crypto.subtle.digest("SHA-256", labelled)),
  );
});

Deno.test("fingerprint changes when the name, uid or either key changes", async () => {
  const fp = await fingerprint(alice);
  const variants: PublicIdentity[] = [
    { ...publicOf(alice), user: "alice2" },
    { ...publicOf(alice), uid: bob.uid },
    { ...publicOf(alice), idKey: bob.idKey },
    { ...publicOf(alice), encKey: bob.encKey },
  ];
  for (const variant of variants) {
    assertNotEquals(await fingerprint(variant), fp);
  }
});

Deno.test("formatFingerprint shows 64 hex digits in 16 groups of 4", async () => {
  const fp = await fingerprint(alice);
  const text = formatFingerprint(fp);
  assert(/^[0-9a-f]{4}( [0-9a-f]{4}){15}$/.test(text), text);
  assertEquals(text.split(" ").length, 16);
  assertEquals(text.replaceAll(" ", ""), toHex(fp));
  assertEquals(shortFingerprint(fp), text.split(" ").slice(0, 4).join(" "));
});

Deno.test("sameKeys is true only for the same uid and both keys", () => {
  assert(sameKeys(publicOf(alice), publicOf(alice)));
  assert(!sameKeys(publicOf(alice), publicOf(bob)));
  assert(!sameKeys(publicOf(alice), { ...publicOf(alice), idKey: bob.idKey }));
  assert(
    !sameKeys(publicOf(alice), { ...publicOf(alice), encKey: bob.encKey }),
  );
  assert(!sameKeys(publicOf(alice), { ...publicOf(alice), uid: bob.uid }));
});

Deno.test("safetyNumber is the same whichever side computes it", async () => {
  assertEquals(await safetyNumber(alice, bob), await safetyNumber(bob, alice));
  assertEquals(await safetyNumber(carol, bob), await safetyNumber(bob, carol));
});

Deno.test("safetyNumber is 60 digits in 12 groups of 5", async () => {
  const number = await safetyNumber(alice, bob);
  assert(/^\d{5}( \d{5}){11}$/.test(number), number);
});

Deno.test("safetyNumber changes when either side's keys change", async () => {
  const ab = await safetyNumber(alice, bob);
  assertNotEquals(await safetyNumber(carol, bob), ab);
  assertNotEquals(await safetyNumber(alice, carol), ab);
  assertNotEquals(
    await safetyNumber({ ...publicOf(alice), idKey: carol.idKey }, bob),
    ab,
  );
  assertNotEquals(
    await safetyNumber({ ...publicOf(alice), encKey: carol.encKey }, bob),
    ab,
  );
  assertNotEquals(
    await safetyNumber(alice, { ...publicOf(bob), idKey: carol.idKey }),
    ab,
  );
  assertNotEquals(
    await safetyNumber(alice, { ...publicOf(bob), encKey: carol.encKey }),
    ab,
  );
});

Deno.test("safetyNumbersMatch ignores whitespace but refuses one wrong digit", async () => {
  const expected = await safetyNumber(alice, bob);
  const compact = expected.replaceAll(" ", "");
  assert(safetyNumbersMatch(expected, expected));
  assert(safetyNumbersMatch(compact, expected));
  assert(
    safetyNumbersMatch(
      ` ${compact.slice(0, 30)}\n${compact.slice(30)}\t`,
      expected,
    ),
  );
  const last = compact.at(-1)!;
  const wrong = compact.slice(0, -1) +
    (last === "9" ? "0" : String(Number(last) + 1));
  assert(!safetyNumbersMatch(wrong, expected));
  assert(!safetyNumbersMatch(compact.slice(0, -1), expected));
  assert(!safetyNumbersMatch(compact + "0", expected));
  assert(!safetyNumbersMatch("", expected));
});
