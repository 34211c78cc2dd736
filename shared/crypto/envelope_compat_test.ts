// The envelope's wire format is pinned against a plain WebCrypto
// implementation of it (the code as it was before sealMessage and
// openMessage moved to node:crypto): what one side seals, the other opens,
// byte for byte, and a fixed vector ties both to exact bytes.
import fc from "fast-check";
import {
  encodeBody,
  type MessageHeader,
  openMessage,
  type SealedMessage,
  sealMessage,
} from "./envelope.ts";
import type { SenderKey } from "./sender_key.ts";
import { canonicalEncode, LABELS } from "../canonical.ts";
import { toHex } from "../bytes.ts";
import { CryptoError } from "../errors.ts";
import { userKey } from "../names.ts";
import { assertEquals, assertRejects, hex } from "../_test_assert.ts";

// --- the WebCrypto reference -------------------------------------------

function referenceHeaderBytes(h: MessageHeader): Uint8Array<ArrayBuffer> {
  return canonicalEncode(LABELS.messageHeader, [
    h.room,
    userKey(h.sender),
    h.epoch,
    h.counter,
    h.ts,
  ]);
}

function referenceSignedBytes(
  h: MessageHeader,
  iv: Uint8Array,
  ct: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return canonicalEncode(LABELS.messageSignature, [
    h.room,
    userKey(h.sender),
    h.epoch,
    h.counter,
    h.ts,
    iv,
    ct,
  ]);
}

async function referenceMessageKey(
  senderKey: SenderKey,
  h: MessageHeader,
): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey(
    "raw",
    senderKey.key,
    "HKDF",
    false,
    ["deriveKey"],
  );
  return await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: canonicalEncode(LABELS.messageKey, [
        h.room,
        userKey(h.sender),
        h.epoch,
        h.counter,
      ]),
    },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

async function referenceSeal(
  senderKey: SenderKey,
  h: MessageHeader,
  plaintext: Uint8Array<ArrayBuffer>,
  signingKey: CryptoKey,
  iv: Uint8Array<ArrayBuffer>,
): Promise<SealedMessage> {
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      {
        name: "AES-GCM",
        iv,
        tagLength: 128,
        additionalData: referenceHeaderBytes(h),
      },
      await referenceMessageKey(senderKey, h),
      plaintext,
    ),
  );
  const sig = new Uint8Array(
    await crypto.subtle.sign(
      "Ed25519",
      signingKey,
      referenceSignedBytes(h, iv, ct),
    ),
  );
  return { iv, ct, sig };
}

async function referenceOpen(
  senderKey: SenderKey,
  h: MessageHeader,
  sealed: SealedMessage,
  verifyKey: CryptoKey,
): Promise<Uint8Array<ArrayBuffer>> {
  const signed = referenceSignedBytes(h, sealed.iv, sealed.ct);
  if (!await crypto.subtle.verify("Ed25519", verifyKey, sealed.sig, signed)) {
    throw new Error("reference: bad signature");
  }
  return new Uint8Array(
    await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: sealed.iv,
        tagLength: 128,
        additionalData: referenceHeaderBytes(h),
      },
      await referenceMessageKey(senderKey, h),
      sealed.ct,
    ),
  );
}

// --- fixtures --------------------------------------------------------------

// RFC 8032 TEST 1's key, imported non-extractable as importIdentity does.
const signer: CryptoKeyPair = {
  privateKey: await crypto.subtle.importKey(
    "pkcs8",
    hex(
      "302e020100300506032b657004220420" +
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    ),
    "Ed25519",
    false,
    ["sign"],
  ),
  publicKey: await crypto.subtle.importKey(
    "raw",
    hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
    "Ed25519",
    true,
    ["verify"],
  ),
};

const HEADER: MessageHeader = {
  room: "general",
  sender: "Alice",
  epoch: 4,
  counter: 17,
  ts: 1_700_000_000_123,
};

function fixedKey(): SenderKey {
  const key = new Uint8Array(32);
  for (let i = 0; i < 32; i++) key[i] = i;
  return { room: "general", sender: "alice", epoch: 4, key };
}

function randomKey(h: MessageHeader = HEADER): SenderKey {
  return {
    room: h.room,
    sender: userKey(h.sender),
    epoch: h.epoch,
    key: crypto.getRandomValues(new Uint8Array(32)),
  };
}

const PLAINTEXT = encodeBody({ kind: "text", text: "hello, wörld" });

// Sealed under fixedKey(), HEADER, PLAINTEXT, the RFC 8032 key and IV
// 0x000102…0b by the WebCrypto reference, and identically by the all-WebCrypto
// sealMessage of commit d2e77fe (its random IV pinned). Ed25519 is
// deterministic, so the signature is fixed too.
const VECTOR = {
  iv: "000102030405060708090a0b",
  ct: "67878a6aa5293ea3363bcc85bb3d0aa4e168c95658c636ae61f128e9f664",
  sig: "c60ef7bc090b5fa5c7a2d9a4e4c577541d9baef55045b84ba16416d5511810f4" +
    "adf05d9a0b17bba67028256e339d15b86c3f95132edd5b86adf4d0b3b482bf01",
};

// --- tests -----------------------------------------------------------------

Deno.test("the WebCrypto reference seals the pinned vector", async () => {
  const sealed = await referenceSeal(
    fixedKey(),
    HEADER,
    PLAINTEXT,
    signer.privateKey,
    hex(VECTOR.iv),
  );
  assertEquals(toHex(sealed.ct), VECTOR.ct);
  assertEquals(toHex(sealed.sig), VECTOR.sig);
});

Deno.test("openMessage opens the pinned vector", async () => {
  const sealed = {
    iv: hex(VECTOR.iv),
    ct: hex(VECTOR.ct),
    sig: hex(VECTOR.sig),
  };
  assertEquals(
    await openMessage(fixedKey(), HEADER, sealed, signer.publicKey),
    PLAINTEXT,
  );
});

Deno.test("a message sealed here has the bytes the WebCrypto reference makes with its IV, and opens there", async () => {
  const key = randomKey();
  const sealed = await sealMessage(key, HEADER, PLAINTEXT, signer.privateKey);
  const reference = await referenceSeal(
    key,
    HEADER,
    PLAINTEXT,
    signer.privateKey,
    sealed.iv,
  );
  assertEquals(sealed.ct, reference.ct);
  assertEquals(sealed.sig, reference.sig);
  assertEquals(
    await referenceOpen(key, HEADER, sealed, signer.publicKey),
    PLAINTEXT,
  );
});

Deno.test("a message sealed with the WebCrypto reference opens here", async () => {
  const key = randomKey();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await referenceSeal(
    key,
    HEADER,
    PLAINTEXT,
    signer.privateKey,
    iv,
  );
  assertEquals(
    await openMessage(key, HEADER, sealed, signer.publicKey),
    PLAINTEXT,
  );
});

Deno.test("any header and text seal to the same bytes here and in the WebCrypto reference, both ways", async () => {
  const header = fc.record({
    room: fc.string({ minLength: 1, maxLength: 40 }),
    sender: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,15}$/),
    epoch: fc.nat(),
    counter: fc.maxSafeNat(),
    ts: fc.maxSafeNat(),
  });
  const body = fc.record({
    kind: fc.constantFrom("text" as const, "me" as const),
    text: fc.string({ unit: "grapheme", maxLength: 300 }),
  });
  await fc.assert(
    fc.asyncProperty(header, body, async (h, b) => {
      const key = randomKey(h);
      const plaintext = encodeBody(b);
      const ours = await sealMessage(key, h, plaintext, signer.privateKey);
      const theirs = await referenceSeal(
        key,
        h,
        plaintext,
        signer.privateKey,
        ours.iv,
      );
      assertEquals(ours, theirs);
      assertEquals(
        await referenceOpen(key, h, ours, signer.publicKey),
        plaintext,
      );
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const fromReference = await referenceSeal(
        key,
        h,
        plaintext,
        signer.privateKey,
        iv,
      );
      assertEquals(
        await openMessage(key, h, fromReference, signer.publicKey),
        plaintext,
      );
    }),
    { numRuns: 100 },
  );
});

Deno.test("a reference-sealed message whose ciphertext was re-signed after tampering fails here with CryptoError", async () => {
  const key = randomKey();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const good = await referenceSeal(
    key,
    HEADER,
    PLAINTEXT,
    signer.privateKey,
    iv,
  );
  const ct = good.ct.slice();
  ct[0]! ^= 0x01;
  const sig = new Uint8Array(
    await crypto.subtle.sign(
      "Ed25519",
      signer.privateKey,
      referenceSignedBytes(HEADER, iv, ct),
    ),
  );
  await assertRejects(
    () => openMessage(key, HEADER, { iv, ct, sig }, signer.publicKey),
    CryptoError,
    "failed to decrypt",
  );
});
