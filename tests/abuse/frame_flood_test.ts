/**
 * A flood of cheap requests (issue 13, item 2): one user asks for lookups,
 * room lists, pings and history pages over several connections, each
 * connection well under any per-connection budget, together far above what
 * a person sends. Each frame type has a per-user limit (`--frame-rate`):
 * the server answers at most the burst plus the rate and refuses the rest
 * with `rate_limited`, while alice and bob chat on.
 */
import { assert } from "../../shared/_test_assert.ts";
import type { RawFrame } from "../../shared/codec.ts";
import { ServerProcess } from "../_harness.ts";
import {
  connectAs,
  joinRoom,
  type RawConnection,
  rawIdentity,
} from "../_raw_client.ts";
import {
  assertHealthy,
  ChatProbe,
  RssSampler,
  scaled,
  sendAtPace,
} from "./_probe.ts";

/** How long the flood goes on. */
const FLOOD_MS = scaled(3_000, 10_000);
/** Frames a second on each connection (one connection per frame type). */
const PER_SECOND = scaled(40, 45);

/** Each flooded type: the frame, how its answer looks, the server's default limit. */
const KINDS: {
  frame: RawFrame;
  answer: string;
  burst: number;
  perSecond: number;
}[] = [
  {
    frame: { t: "lookup", user: "alice" },
    answer: "user",
    burst: 30,
    perSecond: 5,
  },
  { frame: { t: "list" }, answer: "rooms", burst: 10, perSecond: 1 },
  { frame: { t: "ping", n: 7 }, answer: "pong", burst: 20, perSecond: 5 },
  {
    frame: { t: "history", room: "spam", before: 1e9, limit: 50 },
    answer: "history_end",
    burst: 200,
    perSecond: 20,
  },
];

function spam(
  conn: RawConnection,
  frame: RawFrame,
  until: number,
): Promise<number> {
  return sendAtPace(PER_SECOND, until, () => conn.send(frame));
}

Deno.test("a flood of lookups, lists, pings and history requests is limited per user", async () => {
  await using server = await ServerProcess.start();
  await using probe = await ChatProbe.start(server);
  await using rss = await RssSampler.start(server.pid);
  const identity = await rawIdentity("spammer");
  const conns: RawConnection[] = [];
  for (const _ of KINDS) conns.push(await connectAs(server, identity));
  await joinRoom(conns[0]!, "spam");
  for (const c of conns) c.startReading();
  const started = performance.now();
  const sent = await Promise.all(
    conns.map((c, i) => spam(c, KINDS[i]!.frame, started + FLOOD_MS)),
  );
  const elapsedS = (performance.now() - started) / 1000;
  const lines: string[] = [];
  const over: string[] = [];
  KINDS.forEach((kind, i) => {
    const frames = conns.flatMap((c) => c.frames);
    const answered = frames.filter((f) => f.t === kind.answer).length;
    const refused = conns[i]!.frames.filter((f) =>
      f.t === "error" && f.code === "rate_limited"
    ).length;
    const bound = kind.burst + kind.perSecond * elapsedS + 5;
    lines.push(
      `${kind.frame.t} ${sent[i]} sent/${answered} answered/${refused} refused`,
    );
    if (answered > bound) {
      over.push(
        `${answered} ${kind.frame.t} answers (at most ${bound.toFixed(0)})`,
      );
    }
  });
  for (const c of conns) await c.close();
  const report = await probe.finish();
  const summary = await assertHealthy(server, rss, report);
  console.log(`frame flood in ${FLOOD_MS} ms: ${lines.join("; ")}; ${summary}`);
  assert(over.length === 0, `answered past the limit: ${over.join(", ")}`);
});
