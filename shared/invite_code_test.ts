import {
  decodeInvite,
  encodeInvite,
  inviteSecretHash,
  newInviteSecret,
} from "./invite_code.ts";
import { assert, assertEquals, assertThrows } from "./_test_assert.ts";
import { CliError } from "./errors.ts";

const PEM = "-----BEGIN CERTIFICATE-----\n" +
  btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(300))))
    .match(/.{1,64}/g)!.join("\n") +
  "\n-----END CERTIFICATE-----\n";

Deno.test("an invite code round-trips the server, the CA certificate and the secret", () => {
  const invite = {
    server: "chat.example.org:7443",
    caPem: PEM,
    secret: newInviteSecret(),
  };
  const code = encodeInvite(invite);
  assert(
    code.startsWith("chat1:") && /^chat1:[A-Za-z0-9_-]+$/.test(code),
    code,
  );
  assertEquals(decodeInvite(code), invite);
  assertEquals(decodeInvite(`  ${code}\n`), invite);
});

Deno.test("a damaged or foreign invite code is refused with a reason and a hint to copy the whole code", () => {
  const code = encodeInvite({
    server: "h:1",
    caPem: PEM,
    secret: newInviteSecret(),
  });
  const foreign = assertThrows(
    () => decodeInvite("hello"),
    CliError,
    "does not start with chat1:",
  );
  assertEquals(foreign.usage, false);
  assertEquals(
    foreign.hint,
    "copy the whole code from the `chat join --invite …` line you were sent",
  );
  assertThrows(() => decodeInvite(code.slice(0, -10)), CliError, "not valid");
  assertThrows(
    () => decodeInvite("chat1:" + btoa("{}")),
    CliError,
    "not valid",
  );
});

Deno.test("invite secrets are 32 random bytes and the server keeps only their SHA-256", async () => {
  const a = newInviteSecret(), b = newInviteSecret();
  assert(a !== b, "secrets differ");
  const hash = await inviteSecretHash(a);
  assert(/^[0-9a-f]{64}$/.test(hash), hash);
  assertEquals(await inviteSecretHash(a), hash);
  assert(hash !== await inviteSecretHash(b), "hashes differ");
});
