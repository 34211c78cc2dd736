/**
 * Join/leave churn (issue 13, item 2): one user joins and leaves #general
 * as fast as the server answers while alice, bob and carol chat there.
 * Before: each change forced every sender to rotate, rotations never
 * settled, senders gave up after 5 retries and members missed messages.
 * Now one user's membership changes are limited (`--frame-rate
 * membership=…`), senders retry with backoff, and every message reaches
 * every member exactly once.
 */
import { assert, assertEquals } from "../../shared/_test_assert.ts";
import { ClientProcess, ServerProcess } from "../_harness.ts";
import { connectAs, rawIdentity } from "../_raw_client.ts";
import type { RawFrame } from "../../shared/codec.ts";
import { assertHealthy, ChatProbe, RssSampler, scaled } from "./_probe.ts";

/** How long the churn goes on. */
const CHURN_MS = scaled(4_000, 10_000);
/** Messages carol sends meanwhile. */
const CAROL_SAYS = scaled(8, 20);

Deno.test("join/leave churn by one user cannot stop the others' messages", async () => {
  await using server = await ServerProcess.start();
  // carol first: she is a member for every probe alice sends
  await using carol = await ClientProcess.ready(server, "carol");
  await using probe = await ChatProbe.start(server);
  await using rss = await RssSampler.start(server.pid);
  await using churner = await connectAs(server, await rawIdentity("churner"));
  churner.startReading();

  const carolSaid: string[] = [];
  const carolTalks = (async () => {
    for (let i = 1; i <= CAROL_SAYS; i++) {
      await carol.say(`carol ${i}`);
      carolSaid.push(`carol ${i}`);
    }
  })();
  let accepted = 0;
  let refused = 0;
  const seen = new WeakSet<RawFrame>();
  /** Send join or leave; true if the server did it. */
  const change = async (kind: "join" | "leave"): Promise<boolean> => {
    await churner.send({ t: kind, room: "general" });
    const done = kind === "join" ? "joined" : "left";
    const f = await churner.waitFor(
      (f) =>
        !seen.has(f) &&
        ((f.t === done && f.room === "general") || f.t === "error"),
      done,
    );
    seen.add(f);
    if (f.t !== "error") return ++accepted > 0;
    assertEquals(f.code, "rate_limited", JSON.stringify(f));
    refused++;
    return false;
  };
  const until = performance.now() + CHURN_MS;
  // join until in, then leave until out, as fast as the server answers
  for (let member = false; performance.now() < until;) {
    if (await change(member ? "leave" : "join")) member = !member;
  }
  await carolTalks;

  const report = await probe.finish();
  for (const member of [probe.alice, probe.bob]) {
    await member.waitFor((e) => e.text === carolSaid.at(-1), "carol's last");
    const texts = member.received().map((e) => String(e.text));
    for (const text of carolSaid) {
      assertEquals(
        texts.filter((t) => t === text).length,
        1,
        `${member.user}'s copies of ${text}`,
      );
    }
  }
  const alices = carol.received().map((e) => String(e.text));
  for (const text of report.sent) {
    assertEquals(alices.filter((t) => t === text).length, 1, `carol: ${text}`);
  }
  const summary = await assertHealthy(server, rss, report);
  const lines = server.output.items.filter((l) =>
    / (joined|left) general$/.test(l)
  );
  assert(refused > 0, "the churn was never limited");
  console.log(
    `churn: ${accepted} changes accepted, ${refused} refused in ${CHURN_MS} ms; ` +
      `${lines.length} join/leave log lines; carol ${carolSaid.length} sent; ${summary}`,
  );
});
