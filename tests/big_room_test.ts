/**
 * A room past ~100 members on default limits. A sender's key distribution
 * carries one wrap per member (~640 bytes each), so it outgrows the 64 KiB
 * frame limit at about 100 members; a logged-in user may send `keys`
 * frames up to --max-keys-frame-bytes (1.5 MiB), every other frame keeps the
 * 64 KiB limit. Real clients, real server, default flags but the rate.
 */
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { ClientProcess, disposableList, ServerProcess } from "./_harness.ts";
import {
  connectAs,
  joinRoom,
  type RawConnection,
  rawIdentity,
} from "./_raw_client.ts";

const MEMBERS = 160;

Deno.test(`real clients talk in a ${MEMBERS}-member room on default frame limits`, async () => {
  await using server = await ServerProcess.start({
    // the defaults, except the rate and how many connections one address
    // may hold (every member here comes from 127.0.0.1)
    limits: [
      "--rate-burst",
      "1000",
      "--max-connections-per-ip",
      String(MEMBERS + 10),
    ],
  });
  await using raws = disposableList<RawConnection>();
  await using clients = disposableList<ClientProcess>();
  for (let i = 0; i < MEMBERS - 2; i++) {
    const conn = await connectAs(server, await rawIdentity(`member${i}`));
    conn.startReading();
    raws.push(conn);
    await joinRoom(conn, "big");
  }
  const [alice, bob] = await ClientProcess.members(
    server,
    ["alice", "bob"],
    clients,
  );
  await alice!.send("/join #big");
  await bob!.send("/join #big");
  await alice!.waitFor(
    (e) => e.type === "join" && e.user === "bob" && e.room === "big",
    "bob in big",
  );

  const said = await alice!.say("hello, big room", "big");
  assertEquals(said.room, "big");
  const got = await bob!.waitFor(
    (e) => e.type === "message" && e.text === "hello, big room",
    "alice's message, decrypted",
  );
  assertEquals(got.from, "alice");
  // a raw member got alice's wrap and the message (it cannot decrypt a
  // wrap made for a shared test key, but the server relayed both)
  const raw = raws[0]!;
  await raw.waitFor((f) => f.t === "key" && f.from === "alice", "key");
  await raw.waitFor((f) => f.t === "msg" && f.from === "alice", "msg");
  const keysRefused = server.log.includes("too_large");
  assert(!keysRefused, `a frame was refused as too large:\n${server.log}`);

  // any other frame over 64 KiB is still refused, and closes the connection
  const big = await connectAs(server, await rawIdentity("padder"));
  raws.push(big);
  await big.send({ t: "ping", n: 1, pad: "x".repeat(70 * 1024) });
  const error = await big.waitForError("too_large");
  assert(/65536-byte limit/.test(error.message), error.message);
  await big.waitForEnd();
});
