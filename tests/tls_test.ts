/**
 * TLS trust: a client that trusts another CA is refused with a clear TLS
 * error, and there is no flag to skip verification.
 */
import { join } from "node:path";
import { assertEquals, assertIncludes } from "../shared/_test_assert.ts";
import { ClientProcess, runChat, ServerProcess } from "./_harness.ts";
import { ensureLocalCertificates } from "../server/local_ca.ts";

Deno.test("a client started with a CA that did not sign the server's certificate fails with a clear TLS error", async () => {
  await using server = await ServerProcess.start();
  const otherCa = await ensureLocalCertificates(
    join(server.dir, "other-certs"),
    [],
  );
  await using client = ClientProcess.start(server, "alice", {
    ca: otherCa.caPath!,
  });
  assertEquals(await client.end(), 1);
  const stderr = client.stderr.items.join("\n");
  assertIncludes(stderr, "chat: error: TLS error");
  assertIncludes(stderr, "not signed by a CA you trust");
  assertIncludes(stderr, "chat: hint:");
  assertEquals(client.events.items.length, 0);
  // nothing was registered: the server never saw a login
  assertEquals(server.log.includes("logged in"), false);
});

Deno.test("there is no option to skip certificate verification", async () => {
  const result = await runChat(["join", "--user", "alice", "--insecure"]);
  assertEquals(result.code, 2);
  assertIncludes(result.stderr, "--insecure");
  const help = await runChat(["--help"]);
  assertEquals(/insecure|unsafely|no-verify/i.test(help.stdout), false);
});
