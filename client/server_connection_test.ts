/**
 * Opening a connection: a peer that accepts TCP but never answers the TLS
 * handshake (how a stuck or foreign server looks from here) makes the
 * attempt fail after the timeout, with a message saying so, instead of
 * hanging the reconnect loop. A bad --server or --ca is refused before any
 * connection, as a CliError with a hint.
 */
import {
  assert,
  assertEquals,
  assertIncludes,
  assertRejects,
  assertThrows,
} from "../shared/_test_assert.ts";
import { CliError } from "../shared/errors.ts";
import {
  connectToServer,
  parseServerAddress,
  readCaFile,
} from "./server_connection.ts";

Deno.test("a server that never answers the TLS handshake fails the attempt at the timeout", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const silent: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) silent.push(conn); // never read, never answer
  })();
  try {
    const address = parseServerAddress(`127.0.0.1:${listener.addr.port}`);
    const started = performance.now();
    const error = await assertRejects(
      async () => (await connectToServer(address, null, 300)).close(),
      CliError,
      "got no answer within 0.3 s",
    );
    const waited = performance.now() - started;
    assertIncludes(error.hint ?? "", "check --server");
    assert(
      waited >= 290,
      `failed after ${waited.toFixed(0)} ms, before the timeout`,
    );
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of silent) conn.close();
  }
});

Deno.test("a --server that is not HOST:PORT is refused with a hint showing the form", () => {
  assertEquals(parseServerAddress("[::1]:7443"), { host: "::1", port: 7443 });
  const error = assertThrows(
    () => parseServerAddress("host:99999"),
    CliError,
    'bad --server "host:99999"',
  );
  assertIncludes(error.hint ?? "", "use HOST:PORT");
});

Deno.test("a --ca file that holds no certificate is refused before any connection", async () => {
  const path = await Deno.makeTempFile({ suffix: ".pem" });
  try {
    await Deno.writeTextFile(path, "not a certificate\n");
    const error = await assertRejects(
      () => readCaFile(path),
      CliError,
      `${path} holds no PEM certificate`,
    );
    assertIncludes(error.hint ?? "", "BEGIN CERTIFICATE");
  } finally {
    await Deno.remove(path);
  }
});
