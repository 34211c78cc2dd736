import { sign, verify } from "./ed25519.ts";
import { toHex, utf8 } from "../bytes.ts";
import { assert, assertEquals, assertRejects, hex } from "../_test_assert.ts";

// RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte).
const RFC8032 = [
  {
    seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    publicKey:
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155" +
      "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    publicKey:
      "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
];

/** A PKCS#8 Ed25519 private key around a 32-byte seed, as key files store it. */
function pkcs8Of(seed: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array([...hex("302e020100300506032b657004220420"), ...seed]);
}

async function importPair(
  seedHex: string,
  publicHex: string,
): Promise<CryptoKeyPair> {
  return {
    // Non-extractable, as importIdentity imports a key file's private key.
    privateKey: await crypto.subtle.importKey(
      "pkcs8",
      pkcs8Of(hex(seedHex)),
      "Ed25519",
      false,
      ["sign"],
    ),
    publicKey: await crypto.subtle.importKey(
      "raw",
      hex(publicHex),
      "Ed25519",
      true,
      ["verify"],
    ),
  };
}

async function freshPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey("Ed25519", false, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
}

const messages = [
  new Uint8Array(0),
  utf8("hello"),
  crypto.getRandomValues(new Uint8Array(65_536)),
];

Deno.test("sign reproduces the RFC 8032 test vectors with a non-extractable key", async () => {
  for (const vector of RFC8032) {
    const pair = await importPair(vector.seed, vector.publicKey);
    assertEquals(pair.privateKey.extractable, false);
    const message = hex(vector.message);
    assertEquals(toHex(await sign(pair.privateKey, message)), vector.signature);
    assert(await verify(pair.publicKey, hex(vector.signature), message));
    // The WebCrypto reference agrees on the same vector.
    assertEquals(
      toHex(
        new Uint8Array(
          await crypto.subtle.sign("Ed25519", pair.privateKey, message),
        ),
      ),
      vector.signature,
    );
  }
});

Deno.test("a signature made here is byte-identical to WebCrypto's and verifies with crypto.subtle.verify", async () => {
  const pair = await freshPair();
  for (const message of messages) {
    const signature = await sign(pair.privateKey, message);
    assertEquals(signature.length, 64);
    assert(
      await crypto.subtle.verify("Ed25519", pair.publicKey, signature, message),
    );
    const reference = new Uint8Array(
      await crypto.subtle.sign("Ed25519", pair.privateKey, message),
    );
    assertEquals(signature, reference, "Ed25519 is deterministic");
  }
});

Deno.test("a signature made with crypto.subtle.sign verifies here", async () => {
  const pair = await freshPair();
  const other = await freshPair();
  for (const message of messages) {
    const signature = new Uint8Array(
      await crypto.subtle.sign("Ed25519", pair.privateKey, message),
    );
    assert(await verify(pair.publicKey, signature, message));
    assert(!await verify(other.publicKey, signature, message));
  }
});

Deno.test("verify agrees with WebCrypto on tampered and non-canonical signatures", async () => {
  const pair = await freshPair();
  const message = utf8("hello");
  const signature = await sign(pair.privateKey, message);
  const flipped = (index: number) => {
    const out = signature.slice();
    out[index]! ^= 0x01;
    return out;
  };
  // S + L: the same point arithmetic, but S is not reduced below the group
  // order L, which RFC 8032 requires verifiers to refuse.
  const L = (1n << 252n) + 27742317777372353535851937790883648493n;
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!);
  const unreduced = signature.slice();
  s += L;
  for (let i = 32; i < 64; i++, s >>= 8n) unreduced[i] = Number(s & 0xffn);
  const cases: [string, Uint8Array<ArrayBuffer>][] = [
    ["R bit", flipped(0)],
    ["S bit", flipped(40)],
    ["S high bit", flipped(63)],
    ["S + L", unreduced],
    ["zeros", new Uint8Array(64)],
  ];
  for (const [what, bad] of cases) {
    assert(!await verify(pair.publicKey, bad, message), what);
    assert(
      !await crypto.subtle.verify("Ed25519", pair.publicKey, bad, message),
      `WebCrypto also refuses ${what}`,
    );
  }
});

Deno.test("verify returns false for a public key that is not a curve point, as WebCrypto does", async () => {
  // WebCrypto imports any 32 bytes; y = 2 is not on the curve.
  const notAPoint = new Uint8Array(32);
  notAPoint[0] = 2;
  const key = await crypto.subtle.importKey("raw", notAPoint, "Ed25519", true, [
    "verify",
  ]);
  const message = utf8("hello");
  const signature = await sign((await freshPair()).privateKey, message);
  assert(!await crypto.subtle.verify("Ed25519", key, signature, message));
  assert(!await verify(key, signature, message));
});

Deno.test("verify returns false (never throws) for a key that is not an Ed25519 verify key", async () => {
  const pair = await freshPair();
  const message = utf8("hello");
  const signature = await sign(pair.privateKey, message);
  const noUsages = await crypto.subtle.importKey(
    "raw",
    hex(RFC8032[0]!.publicKey),
    "Ed25519",
    true,
    [],
  );
  const hmac = await crypto.subtle.generateKey(
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  for (const key of [pair.privateKey, noUsages, hmac]) {
    assert(!await verify(key, signature, message));
  }
});

Deno.test("sign rejects a key that is not an Ed25519 private signing key with TypeError", async () => {
  const pair = await freshPair();
  const hmac = await crypto.subtle.generateKey(
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  for (const key of [pair.publicKey, hmac]) {
    await assertRejects(
      () => sign(key, utf8("hello")),
      TypeError,
      "Ed25519 private key",
    );
  }
});
