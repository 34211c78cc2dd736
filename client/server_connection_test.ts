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
  connectRetrying,
  connectToServer,
  HandshakeClosedError,
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

Deno.test("a server that closes the connection during the TLS handshake is retried a bounded number of times, saying so, then named as busy or refusing", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const closing = (async () => {
    for await (const conn of listener) {
      accepted++;
      conn.close(); // as a server over its handshake caps does
    }
  })();
  const said: string[] = [];
  const slept: number[] = [];
  const address = parseServerAddress(`127.0.0.1:${listener.addr.port}`);
  const error = await assertRejects(
    async () =>
      (await connectRetrying(address, null, {
        attempts: 3,
        say: (line) => said.push(line),
        sleep: (ms) => {
          slept.push(ms);
          return Promise.resolve();
        },
      })).close(),
    HandshakeClosedError,
    "the server closed the connection during the TLS handshake (it may be busy or refusing your address)",
  );
  assert(!/--ca/.test(`${error.message} ${error.hint}`), error.hint);
  assertEquals(accepted, 3);
  assertEquals(said.length, 2);
  assertIncludes(said[1]!, "attempt 3 of 3");
  assert(slept[1]! >= slept[0]! / 2, `delays ${slept}`);
  listener.close();
  await closing.catch(() => {});
});
