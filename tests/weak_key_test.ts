/**
 * A login with a small-order identity key — the identity point — and a
 * signature forged without any private key (R = identity, S = 0). Deno's
 * Ed25519 verifies that signature over any message, so only the server's
 * key check stands between it and a login anyone could repeat. Real server,
 * real TLS, a hand-made login frame.
 */
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { toBase64Url } from "../shared/bytes.ts";
import { ServerProcess } from "./_harness.ts";
import {
  connectAs,
  RawConnection,
  rawIdentity,
  readHello,
} from "./_raw_client.ts";

Deno.test("a login with a small-order identity key and a forged signature is refused, and registers nothing", async () => {
  await using server = await ServerProcess.start();
  await using weak = await RawConnection.open(server);
  await readHello(weak);
  const identityPoint = new Uint8Array(32);
  identityPoint[0] = 1;
  const forged = new Uint8Array(64);
  forged[0] = 1;
  const honest = await rawIdentity("mallory");
  await weak.send({
    t: "login",
    user: "mallory",
    uid: honest.uid,
    server: "127.0.0.1",
    idKey: toBase64Url(identityPoint),
    encKey: toBase64Url(honest.encKey),
    sig: toBase64Url(forged),
  });
  const refused = await weak.waitForError("bad_key");
  assert(/small-order/.test(refused.message), refused.message);
  await weak.waitForEnd();
  assert(!server.log.includes("mallory logged in"), server.log);

  // the name was not taken: a real key can still claim it
  await using real = await connectAs(server, honest);
  assertEquals(
    real.frames.some((f) => f.t === "welcome" && f.user === "mallory"),
    true,
  );
});
