import { generateIdentity, importVerifyKey, sign, verify } from "./identity.ts";
import {
  exportPrivateKey,
  generateSigningKeyPair,
  importDecryptKey,
  importSigningKey,
  rawPublicKey,
} from "./private_keys.ts";
import { assert, assertEquals } from "../_test_assert.ts";

Deno.test("a signing key written to PKCS#8 and read back signs what its raw public key verifies", async () => {
  const pair = await generateSigningKeyPair();
  const signingKey = await importSigningKey(
    await exportPrivateKey(pair.privateKey),
  );
  assertEquals(signingKey.extractable, false);
  const bytes = new TextEncoder().encode("hello");
  const verifyKey = await importVerifyKey(await rawPublicKey(pair.publicKey));
  assert(await verify(verifyKey, await sign(signingKey, bytes), bytes));
});

Deno.test("a decryption key written to PKCS#8 and read back opens what its public key encrypted", async () => {
  const id = await generateIdentity("alice");
  const decryptKey = await importDecryptKey(
    await exportPrivateKey(id.decryptKey),
  );
  assertEquals(decryptKey.extractable, false);
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const wrapped = await crypto.subtle.encrypt(
    { name: "RSA-OAEP" },
    id.encryptKey,
    secret,
  );
  const opened = await crypto.subtle.decrypt(
    { name: "RSA-OAEP" },
    decryptKey,
    wrapped,
  );
  assertEquals(new Uint8Array(opened), secret);
});
