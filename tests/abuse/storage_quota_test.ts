/**
 * Storage quotas (issue 13, "Storage quotas"): one user fills their
 * per-user quota of stored message bytes while two real clients chat.
 * Every message over the quota is refused with `quota_exceeded` (naming
 * the quota) and never acknowledged; every acknowledged one is still in
 * the history; the other members chat on unaffected.
 * @module
 */
import { assert, assertEquals } from "../../shared/_test_assert.ts";
import { ServerProcess } from "../_harness.ts";
import {
  connectAs,
  joinRoom,
  messageFrame,
  rawIdentity,
  sendKeys,
} from "../_raw_client.ts";
import { assertHealthy, ChatProbe, RssSampler, scaled } from "./_probe.ts";

Deno.test("a user over the per-user storage quota is refused with quota_exceeded, others chat on", async () => {
  const quotaKiB = scaled(40, 400);
  await using server = await ServerProcess.start({
    args: ["--quota", `user-messages=1000000/${quotaKiB}KiB`],
  });
  await using rss = await RssSampler.start(server.pid);
  await using probe = await ChatProbe.start(server);
  const identity = await rawIdentity("mallory");
  await using mallory = await connectAs(server, identity);
  mallory.startReading();
  const joined = await joinRoom(mallory, "vault");
  await sendKeys(mallory, identity, "vault", 1, Number(joined.roster));
  // each message stores about 4.2 kB: the quota holds about quotaKiB / 4.2
  const tries = Math.ceil(quotaKiB / 4) + 10;
  const acked: number[] = [];
  let refused = 0;
  for (let counter = 0; counter < tries; counter++) {
    const frame = messageFrame("vault", 1, counter, { ctBytes: 3000 });
    await mallory.send(frame);
    const answer = await mallory.waitFor(
      (f) => f.id === frame.id && (f.t === "ack" || f.t === "error"),
      `the answer to message ${counter}`,
    );
    if (answer.t === "ack") acked.push(Number(answer.seq));
    else {
      assertEquals(answer.code, "quota_exceeded", "error code");
      assert(/user-messages quota/.test(String(answer.message)), "names it");
      refused++;
    }
  }
  assert(
    acked.length > 0 && refused >= 10,
    `${acked.length} acked, ${refused} refused`,
  );
  // every acknowledged message is stored: the history holds exactly them
  const seen = mallory.frames.length;
  await mallory.send({ t: "history", room: "vault", before: 1e9, limit: 500 });
  await mallory.waitFor((f) => f.t === "history_end", "history_end");
  const stored = mallory.frames.slice(seen).filter((f) => f.t === "msg")
    .map((f) => Number(f.seq));
  assertEquals(stored, acked, "stored seqs");
  const report = await probe.finish();
  const summary = await assertHealthy(server, rss, report);
  console.log(
    `quota ${quotaKiB} KiB: ${acked.length} acked, ${refused} refused; ${summary}`,
  );
});
