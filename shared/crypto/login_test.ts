import { type LoginChallenge, signLogin, verifyLogin } from "./login.ts";
import { canonicalEncode, LABELS } from "../canonical.ts";
import { assert } from "../_test_assert.ts";

// Login only needs the Ed25519 identity key.
const alice = await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
  "sign",
  "verify",
]) as CryptoKeyPair;
const mallory = await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
  "sign",
  "verify",
]) as CryptoKeyPair;

const challenge: LoginChallenge = {
  server: "chat.example.org",
  session: "6f1c1a2e-5b0f-4f3c-9d3e-2f0a7b9c1d4e",
  nonce: new Uint8Array(32).fill(7),
  uid: "0f8fad5b-d9cb-469f-a165-70867728950e",
  user: "alice",
  idKey: new Uint8Array(32).fill(1),
  encKey: new Uint8Array(400).fill(2),
};

Deno.test("a signed login verifies against the same challenge", async () => {
  const sig = await signLogin(alice.privateKey, challenge);
  assert(sig.length === 64);
  assert(await verifyLogin(alice.publicKey, sig, { ...challenge }));
});

Deno.test("a login signature fails if the server, session, nonce, uid or user differs", async () => {
  const sig = await signLogin(alice.privateKey, challenge);
  const nonce = challenge.nonce.slice();
  nonce[31]! ^= 1;
  const changed: [string, LoginChallenge][] = [
    ["server", { ...challenge, server: "evil.example.org" }],
    ["server suffix", { ...challenge, server: "chat.example.org.evil" }],
    ["session", {
      ...challenge,
      session: "6f1c1a2e-5b0f-4f3c-9d3e-2f0a7b9c1d4f",
    }],
    ["nonce bit", { ...challenge, nonce }],
    ["nonce length", { ...challenge, nonce: challenge.nonce.subarray(0, 31) }],
    ["uid", { ...challenge, uid: "0f8fad5b-d9cb-469f-a165-70867728950f" }],
    ["user", { ...challenge, user: "alice2" }],
    ["identity key", { ...challenge, idKey: new Uint8Array(32).fill(9) }],
    ["encryption key", { ...challenge, encKey: new Uint8Array(400).fill(9) }],
  ];
  for (const [what, other] of changed) {
    assert(!await verifyLogin(alice.publicKey, sig, other), what);
  }
});

Deno.test("a login signature does not verify under another identity key", async () => {
  const sig = await signLogin(mallory.privateKey, challenge);
  assert(!await verifyLogin(alice.publicKey, sig, challenge));
});

Deno.test("login compares the server name and the username case-insensitively", async () => {
  const sig = await signLogin(alice.privateKey, {
    ...challenge,
    server: "Chat.Example.ORG",
  });
  assert(await verifyLogin(alice.publicKey, sig, challenge));
  assert(
    await verifyLogin(alice.publicKey, sig, { ...challenge, user: "ALICE" }),
  );
});

Deno.test("verifyLogin returns false for a malformed signature instead of throwing", async () => {
  const sig = await signLogin(alice.privateKey, challenge);
  assert(!await verifyLogin(alice.publicKey, sig.slice(0, 63), challenge));
  assert(!await verifyLogin(alice.publicKey, new Uint8Array(0), challenge));
  assert(!await verifyLogin(alice.publicKey, new Uint8Array(64), challenge));
});

/** The signed login bytes, spelled out as the protocol defines them. */
function referenceLoginBytes(c: LoginChallenge): Uint8Array<ArrayBuffer> {
  return canonicalEncode(LABELS.login, [
    c.server.toLowerCase(),
    c.session,
    c.nonce,
    c.uid,
    c.user.toLowerCase(),
    c.idKey,
    c.encKey,
  ]);
}

Deno.test("a login signed here verifies with crypto.subtle.verify, and one signed with crypto.subtle.sign verifies here", async () => {
  const bytes = referenceLoginBytes(challenge);
  const ours = await signLogin(alice.privateKey, challenge);
  assert(await crypto.subtle.verify("Ed25519", alice.publicKey, ours, bytes));
  const theirs = new Uint8Array(
    await crypto.subtle.sign("Ed25519", alice.privateKey, bytes),
  );
  assert(await verifyLogin(alice.publicKey, theirs, challenge));
});
