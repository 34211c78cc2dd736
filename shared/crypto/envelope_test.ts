import fc from "fast-check";
import {
  ciphertextBytes,
  decodeBody,
  encodeBody,
  type MessageBody,
  type MessageHeader,
  openMessage,
  type SealedMessage,
  sealMessage,
} from "./envelope.ts";
import { newSenderKey, type SenderKey } from "./sender_key.ts";
import { sign } from "./ed25519.ts";
import { canonicalEncode, LABELS } from "../canonical.ts";
import { toBase64Url, utf8 } from "../bytes.ts";
import { CryptoError } from "../errors.ts";
import { userKey } from "../names.ts";
import {
  assert,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertThrows,
} from "../_test_assert.ts";

// Envelopes only need the Ed25519 identity keys.
async function ed25519(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
}
const alice = await ed25519();
const mallory = await ed25519();

const HEADER: MessageHeader = {
  room: "general",
  sender: "alice",
  epoch: 4,
  counter: 17,
  ts: 1_700_000_000_123,
};

function freshKey(): SenderKey {
  return newSenderKey(HEADER.room, HEADER.sender, HEADER.epoch);
}

function copyOf(key: SenderKey): SenderKey {
  return {
    room: key.room,
    sender: key.sender,
    epoch: key.epoch,
    key: key.key.slice(),
  };
}

function flipBit(
  bytes: Uint8Array<ArrayBuffer>,
  index: number,
): Uint8Array<ArrayBuffer> {
  const out = bytes.slice();
  out[index]! ^= 0x01;
  return out;
}

const plaintext = encodeBody({ kind: "text", text: "hello, wörld" });

async function sealed(
  key = freshKey(),
  header = HEADER,
): Promise<SealedMessage> {
  return await sealMessage(key, header, plaintext, alice.privateKey);
}

Deno.test("a sealed message opens to the same plaintext", async () => {
  const key = freshKey();
  const message = await sealed(key);
  assertEquals(message.iv.length, 12);
  assertEquals(
    message.ct.length,
    plaintext.length + 16,
    "ciphertext plus a 128-bit tag",
  );
  assertEquals(message.sig.length, 64);
  const opened = await openMessage(
    copyOf(key),
    HEADER,
    message,
    alice.publicKey,
  );
  assertEquals(opened, plaintext);
  assertEquals(decodeBody(opened), { kind: "text", text: "hello, wörld" });
});

Deno.test("the sender name in a header is compared case-insensitively", async () => {
  const key = freshKey();
  const message = await sealMessage(
    key,
    { ...HEADER, sender: "Alice" },
    plaintext,
    alice.privateKey,
  );
  assertEquals(
    await openMessage(
      copyOf(key),
      { ...HEADER, sender: "ALICE" },
      message,
      alice.publicKey,
    ),
    plaintext,
  );
});

Deno.test("any text round-trips through seal and open", async () => {
  const key = freshKey();
  let counter = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom<MessageBody["kind"]>("text", "me"),
      fc.string({ unit: "grapheme", maxLength: 200 }),
      async (kind, text) => {
        const header = { ...HEADER, counter: counter++ };
        const message = await sealMessage(
          key,
          header,
          encodeBody({ kind, text }),
          alice.privateKey,
        );
        const opened = await openMessage(key, header, message, alice.publicKey);
        assertEquals(decodeBody(opened), { kind, text });
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("tampering with any header field makes open fail with CryptoError", async () => {
  const key = freshKey();
  const message = await sealed(key);
  const changed: [string, MessageHeader][] = [
    ["room", { ...HEADER, room: "random" }],
    ["sender", { ...HEADER, sender: "bob" }],
    ["epoch", { ...HEADER, epoch: HEADER.epoch + 1 }],
    ["counter", { ...HEADER, counter: HEADER.counter + 1 }],
    ["ts", { ...HEADER, ts: HEADER.ts + 1 }],
  ];
  for (const [what, header] of changed) {
    // The key is made to match each header, so only the binding can catch it.
    const matching = {
      ...copyOf(key),
      room: header.room,
      sender: header.sender,
      epoch: header.epoch,
    };
    await assertRejects(
      () => openMessage(matching, header, message, alice.publicKey),
      CryptoError,
    ).catch((error) => {
      throw new Error(what, { cause: error });
    });
  }
});

Deno.test("tampering with the iv, ciphertext or signature makes open fail with CryptoError", async () => {
  const key = freshKey();
  const message = await sealed(key);
  const tampered: [string, SealedMessage][] = [
    ["iv bit", { ...message, iv: flipBit(message.iv, 0) }],
    ["iv last bit", { ...message, iv: flipBit(message.iv, 11) }],
    ["iv short", { ...message, iv: message.iv.slice(0, 11) }],
    ["iv long", { ...message, iv: new Uint8Array([...message.iv, 0]) }],
    ["ct first bit", { ...message, ct: flipBit(message.ct, 0) }],
    ["ct tag bit", {
      ...message,
      ct: flipBit(message.ct, message.ct.length - 1),
    }],
    ["ct truncated", { ...message, ct: message.ct.slice(0, -1) }],
    ["ct empty", { ...message, ct: new Uint8Array(0) }],
    ["sig bit", { ...message, sig: flipBit(message.sig, 63) }],
    ["sig short", { ...message, sig: message.sig.slice(0, 63) }],
  ];
  for (const [what, other] of tampered) {
    await assertRejects(
      () => openMessage(copyOf(key), HEADER, other, alice.publicKey),
      CryptoError,
    ).catch((error) => {
      throw new Error(what, { cause: error });
    });
  }
  // And the untouched message still opens.
  assertEquals(
    await openMessage(copyOf(key), HEADER, message, alice.publicKey),
    plaintext,
  );
});

/** What the sender (who holds the signing key) could send: any bytes, validly signed. */
async function resigned(
  header: MessageHeader,
  iv: Uint8Array<ArrayBuffer>,
  ct: Uint8Array<ArrayBuffer>,
): Promise<SealedMessage> {
  const signed = canonicalEncode(LABELS.messageSignature, [
    header.room,
    userKey(header.sender),
    header.epoch,
    header.counter,
    header.ts,
    iv,
    ct,
  ]);
  return { iv, ct, sig: await sign(alice.privateKey, signed) };
}

Deno.test("a ciphertext, tag or IV tampered and re-signed by the sender fails to decrypt with CryptoError", async () => {
  const key = freshKey();
  const { iv, ct } = await sealed(key);
  const tampered: [string, Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>][] =
    [
      ["ct first bit", iv, flipBit(ct, 0)],
      ["tag first bit", iv, flipBit(ct, ct.length - 16)],
      ["tag last bit", iv, flipBit(ct, ct.length - 1)],
      ["ct truncated", iv, ct.slice(0, -1)],
      ["tag only", iv, ct.slice(-16)],
      ["shorter than a tag", iv, ct.slice(0, 15)],
      ["ct empty", iv, new Uint8Array(0)],
      ["iv bit", flipBit(iv, 5), ct],
    ];
  for (const [what, badIv, badCt] of tampered) {
    const message = await resigned(HEADER, badIv, badCt);
    await assertRejects(
      () => openMessage(copyOf(key), HEADER, message, alice.publicKey),
      CryptoError,
      "failed to decrypt",
    ).catch((error) => {
      throw new Error(what, { cause: error });
    });
  }
  // Control: re-signing the untouched bytes changes nothing.
  const same = await resigned(HEADER, iv, ct);
  assertEquals(
    await openMessage(copyOf(key), HEADER, same, alice.publicKey),
    plaintext,
  );
});

Deno.test("a timestamp changed and re-signed by the sender fails to decrypt: the whole header is the GCM associated data", async () => {
  // ts is not part of the key derivation, so only the associated data can catch it.
  const key = freshKey();
  const { iv, ct } = await sealed(key);
  const later = { ...HEADER, ts: HEADER.ts + 1 };
  await assertRejects(
    async () =>
      openMessage(
        copyOf(key),
        later,
        await resigned(later, iv, ct),
        alice.publicKey,
      ),
    CryptoError,
    "failed to decrypt",
  );
});

Deno.test("a message checked against another sender's verify key fails", async () => {
  const key = freshKey();
  const message = await sealed(key);
  await assertRejects(
    () => openMessage(copyOf(key), HEADER, message, mallory.publicKey),
    CryptoError,
    "bad signature",
  );
});

Deno.test("a message opened with a different sender key fails with CryptoError", async () => {
  const message = await sealed(freshKey());
  const other = freshKey();
  await assertRejects(
    () => openMessage(other, HEADER, message, alice.publicKey),
    CryptoError,
    "failed to decrypt",
  );
  const otherEpoch = newSenderKey(HEADER.room, HEADER.sender, HEADER.epoch + 1);
  await assertRejects(
    () => openMessage(otherEpoch, HEADER, message, alice.publicKey),
    CryptoError,
    "does not match",
  );
});

Deno.test("a validly signed message under the sender key of another room fails", async () => {
  // The signer is honest about the header, but the sender key belongs elsewhere.
  const key = freshKey();
  const message = await sealed(key);
  const elsewhere = { ...copyOf(key), room: "random" };
  await assertRejects(
    () => openMessage(elsewhere, HEADER, message, alice.publicKey),
    CryptoError,
    "does not match",
  );
});

Deno.test("open checks the signature before deriving any key from the sender key", async () => {
  const key = freshKey();
  const message = await sealed(key);
  const touched: string[] = [];
  const watched = new Proxy(copyOf(key), {
    get(target, property, receiver) {
      if (property === "key" || property === "hkdf") {
        touched.push(String(property));
      }
      return Reflect.get(target, property, receiver);
    },
  });
  await assertRejects(
    () =>
      openMessage(
        watched,
        HEADER,
        { ...message, ct: flipBit(message.ct, 3) },
        alice.publicKey,
      ),
    CryptoError,
    "bad signature",
  );
  assertEquals(touched, []);
  // Control: a good message does read the key.
  await openMessage(watched, HEADER, message, alice.publicKey);
  assert(touched.length > 0);
});

Deno.test("sealMessage refuses a header that does not match the sender key", async () => {
  const key = freshKey();
  for (
    const header of [
      { ...HEADER, room: "random" },
      { ...HEADER, sender: "bob" },
      { ...HEADER, epoch: HEADER.epoch + 1 },
    ]
  ) {
    await assertRejects(
      () => sealed(key, header),
      CryptoError,
      "does not match",
    );
  }
});

Deno.test("encodeBody and decodeBody round-trip text and /me bodies", () => {
  const bodies: MessageBody[] = [
    { kind: "text", text: "" },
    { kind: "text", text: 'quotes " and \\ and\nnewlines' },
    { kind: "me", text: "waves 👋" },
  ];
  for (const body of bodies) {
    assertEquals(decodeBody(encodeBody(body)), body);
  }
});

Deno.test("encodeBody writes one kind byte then the UTF-8 text, nothing else", () => {
  const body = { kind: "text", text: "hi", extra: "leak" } as MessageBody;
  assertEquals([...encodeBody(body)], [0x01, 0x68, 0x69]);
  assertEquals([...encodeBody({ kind: "me", text: "é" })], [0x02, 0xc3, 0xa9]);
});

Deno.test("a body's encrypted size is exactly its text bytes plus the kind byte and the GCM tag", async () => {
  const key = freshKey();
  const text = "\u0001".repeat(1000) + '"\\'.repeat(500);
  const bytes = utf8(text).length;
  const sealedBody = await sealMessage(
    key,
    { room: key.room, sender: key.sender, epoch: key.epoch, counter: 0, ts: 1 },
    encodeBody({ kind: "text", text }),
    alice.privateKey,
  );
  assertEquals(sealedBody.ct.length, ciphertextBytes(bytes));
});

Deno.test("decodeBody rejects anything that is not a message body with CryptoError", () => {
  const junk = [
    new Uint8Array([]),
    new Uint8Array([0x00, 0x41]),
    new Uint8Array([0x04, 0x41]),
    new Uint8Array([0x01, 0xff, 0xfe]),
    utf8('{"kind":"text","text":"x"}'),
  ];
  for (const bytes of junk) {
    assertThrows(
      () => decodeBody(bytes),
      CryptoError,
      "not a valid message body",
    );
  }
});

Deno.test("decodeBody reads each kind back: text, /me and topic", () => {
  for (const kind of ["text", "me", "topic"] as const) {
    assertEquals(decodeBody(encodeBody({ kind, text: "hé" })), {
      kind,
      text: "hé",
    });
  }
  assertEquals(encodeBody({ kind: "topic", text: "" })[0], 0x03);
});

Deno.test("sealing 100,000 messages under one sender key never repeats an IV", async () => {
  const key = freshKey();
  const body = encodeBody({ kind: "text", text: "x" });
  const ivs = new Set<string>();
  const total = 100_000;
  const batch = 250;
  const started = performance.now();
  for (let first = 0; first < total; first += batch) {
    const work: Promise<SealedMessage>[] = [];
    for (let counter = first; counter < first + batch; counter++) {
      work.push(
        sealMessage(key, { ...HEADER, counter }, body, alice.privateKey),
      );
    }
    for (const message of await Promise.all(work)) {
      assertEquals(message.iv.length, 12);
      ivs.add(toBase64Url(message.iv));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`sealed ${total} messages in ${seconds.toFixed(1)} s`);
  assertEquals(ivs.size, total);
});

Deno.test("two seals of the same header and plaintext differ in IV and ciphertext", async () => {
  const key = freshKey();
  const a = await sealed(key);
  const b = await sealed(key);
  assertNotEquals(a.iv, b.iv);
  assertNotEquals(a.ct, b.ct);
});
