/**
 * Issue 13, item 1: one logged-in client floods the server with tiny
 * valid frames, or with bytes (big frames) faster than it processes them,
 * while two real clients keep chatting. The server must cut the flooder
 * off with `input_flood`, hold at most a fixed amount of its input, and
 * stay healthy (tests/abuse/_probe.ts, assertHealthy).
 * @module
 */
import { assert } from "../../shared/_test_assert.ts";
import { encodeFrame } from "../../shared/codec.ts";
import { concatBytes } from "../../shared/bytes.ts";
import { ServerProcess } from "../_harness.ts";
import { connectAs, type RawConnection, rawIdentity } from "../_raw_client.ts";
import { assertHealthy, ChatProbe, RssSampler, scaled } from "./_probe.ts";

/** Write `chunk` again and again until the server cuts us off (or `ms` pass). */
async function flood(
  conn: RawConnection,
  chunk: Uint8Array,
  ms: number,
): Promise<number> {
  const until = performance.now() + ms;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = new Promise<"stop">((resolve) => {
    timer = setTimeout(() => resolve("stop"), ms);
  });
  let sent = 0;
  try {
    while (performance.now() < until && conn.end === null) {
      const wrote = conn.sendBytes(chunk).then(() => "wrote" as const);
      wrote.catch(() => {});
      if (await Promise.race([wrote, stop]) === "stop") break;
      sent += chunk.length;
    }
  } catch {
    // the server closed the connection: what we want
  } finally {
    clearTimeout(timer);
  }
  return sent;
}

/**
 * Flood from logged-in raw clients for the attack's whole duration: each
 * one until the server cuts it off with input_flood, then a fresh one (the
 * address is refused for the flood penalty meanwhile: attempts go on every
 * 100 ms, as an attacker's would).
 */
async function floodRounds(
  server: ServerProcess,
  chunk: Uint8Array,
  ms: number,
): Promise<{ rounds: number; refused: number; sent: number }> {
  const until = performance.now() + ms;
  const identity = await rawIdentity("mallory");
  let rounds = 0, refused = 0, sent = 0;
  while (performance.now() < until) {
    let mallory: RawConnection;
    try {
      mallory = await connectAs(server, identity);
    } catch {
      refused++; // the flood penalty: closed during the handshake
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    await using _closing = mallory;
    mallory.startReading();
    // each flooder goes on until it is cut off (15 s at most)
    sent += await flood(mallory, chunk, 15_000);
    const cut = await mallory.waitForError("input_flood");
    assert(/frames|bytes/.test(cut.message), cut.message);
    rounds++;
  }
  assert(rounds > 0, "no flooder got through to be cut off");
  return { rounds, refused, sent };
}

/** Run the flood while the probe chats; assert the server's health. */
async function underAttack(name: string, chunk: Uint8Array): Promise<void> {
  // a message rate the probe (5 a second) stays under: the input budgets
  // are their defaults (never below what the message rate allows)
  await using server = await ServerProcess.start({
    limits: ["--rate-burst", "20", "--rate-per-second", "10"],
  });
  await using rss = await RssSampler.start(server.pid);
  await using probe = await ChatProbe.start(server);
  const { rounds, refused, sent } = await floodRounds(
    server,
    chunk,
    scaled(3000, 10_000),
  );
  const report = await probe.finish();
  const summary = await assertHealthy(server, rss, report);
  console.log(
    `${name}: ${rounds} flooders cut off after ${
      (sent / 2 ** 20).toFixed(1)
    } MiB in all, ${refused} reconnects refused; ${summary}`,
  );
}

Deno.test("a logged-in client flooding tiny frames is cut off with input_flood while others chat", async () => {
  const pings = Array.from(
    { length: 2000 },
    (_, n) => encodeFrame({ t: "ping", n }),
  );
  await underAttack("tiny-frame flood", concatBytes(...pings));
});

Deno.test("a logged-in client flooding bytes in big frames is cut off with input_flood while others chat", async () => {
  // a frame type the server does not know: a logged-in session answers it
  // with an error and keeps reading, so only the byte budget stops it
  const big = encodeFrame({ t: "zz", pad: "x".repeat(60_000) });
  await underAttack("byte flood", concatBytes(...Array(16).fill(big)));
});
