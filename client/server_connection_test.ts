/**
 * Opening a connection: a peer that accepts TCP but never answers the TLS
 * handshake (how a stuck or foreign server looks from here) makes the
 * attempt fail after the timeout, with a message saying so, instead of
 * hanging the reconnect loop.
 */
import { assert, assertIncludes } from "../shared/_test_assert.ts";
import { connectToServer, parseServerAddress } from "./server_connection.ts";

Deno.test("a server that never answers the TLS handshake fails the attempt at the timeout", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const silent: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) silent.push(conn); // never read, never answer
  })();
  try {
    const address = parseServerAddress(`127.0.0.1:${listener.addr.port}`);
    const started = performance.now();
    let error: Error | null = null;
    try {
      (await connectToServer(address, null, 300)).close();
    } catch (e) {
      error = e as Error;
    }
    const waited = performance.now() - started;
    assert(error !== null, "the attempt did not fail");
    assertIncludes(error.message, "got no answer within 0.3 s");
    assertIncludes((error as Error & { hint: string }).hint, "check --server");
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
