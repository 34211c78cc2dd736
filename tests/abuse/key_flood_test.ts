/**
 * Key-wrap flood (issue 13, item 5): one user sends `keys` frames with the
 * largest wraps, each a new epoch the server stores for good (379 MB in
 * 10 s). Now keys frames, and the wraps in them, are limited per user
 * across all of that user's connections (`--frame-rate keys=60/10`,
 * `wraps=4000/400`): the flooder gets `rate_limited`, at most the burst
 * plus the rate gets stored, and alice and bob chat on.
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { assert } from "../../shared/_test_assert.ts";
import { ServerProcess } from "../_harness.ts";
import {
  connectAs,
  joinRoom,
  type RawConnection,
  rawIdentity,
} from "../_raw_client.ts";
import { toBase64Url } from "../../shared/bytes.ts";
import {
  assertHealthy,
  ChatProbe,
  RssSampler,
  scaled,
  sendAtPace,
} from "./_probe.ts";

/** How long the flood goes on. */
const FLOOD_MS = scaled(3_000, 10_000);
/** Connections of the one flooding user… */
const CONNECTIONS = scaled(4, 8);
/** …each sending this many keys frames a second (under any per-connection budget). */
const PER_CONNECTION_PER_SECOND = 40;
/** The defaults the server enforces for keys frames. */
const KEYS_BURST = 60;
const KEYS_PER_SECOND = 10;

const random = (n: number) =>
  toBase64Url(crypto.getRandomValues(new Uint8Array(n)));

/** Send keys frames on `conn` at a steady rate until `until`; epochs from `first`, step `step`. */
async function flood(
  conn: RawConnection,
  roster: number,
  first: number,
  step: number,
  until: number,
): Promise<number> {
  const wrap = { to: "flooder", wrap: random(768), sig: random(64) };
  return await sendAtPace(PER_CONNECTION_PER_SECOND, until, (i) =>
    conn.send({
      t: "keys",
      room: "flood",
      epoch: first + i * step,
      roster,
      wraps: [wrap],
    }));
}

Deno.test("a flood of keys frames from one user's connections is limited and stores little", async () => {
  await using server = await ServerProcess.start();
  await using probe = await ChatProbe.start(server);
  await using rss = await RssSampler.start(server.pid);
  const identity = await rawIdentity("flooder");
  const conns: RawConnection[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    conns.push(await connectAs(server, identity));
  }
  const joined = await joinRoom(conns[0]!, "flood");
  for (const c of conns) c.startReading();
  const started = performance.now();
  const counts = await Promise.all(
    conns.map((c, i) =>
      flood(
        c,
        Number(joined.roster),
        i + 1,
        CONNECTIONS,
        started + FLOOD_MS,
      )
    ),
  );
  const refused = conns.flatMap((c) => c.frames)
    .filter((f) => f.t === "error" && f.code === "rate_limited").length;
  for (const c of conns) await c.close();
  const report = await probe.finish();
  const summary = await assertHealthy(server, rss, report);
  await server.stop();
  const elapsedS = (performance.now() - started) / 1000;
  const db = new DatabaseSync(join(server.dataDir, "chat.db"), {
    readOnly: true,
  });
  const row = db.prepare(
    "SELECT count(DISTINCT epoch) AS n FROM sender_keys WHERE room = 'flood'",
  ).get() as { n: number };
  db.close();
  const sent = counts.reduce((a, b) => a + b, 0);
  const bound = KEYS_BURST + KEYS_PER_SECOND * elapsedS + 5;
  console.log(
    `key flood: ${sent} keys frames on ${CONNECTIONS} connections in ` +
      `${FLOOD_MS} ms; ${row.n} stored, ${refused} refused so far; ${summary}`,
  );
  assert(
    row.n <= bound,
    `${row.n} sender keys stored from one user in ${
      elapsedS.toFixed(1)
    } s (at most ${bound.toFixed(0)})`,
  );
});
