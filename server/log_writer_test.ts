/** TurnBatchedLog: one write per turn, order kept, partial writes finished, flush at once, every line timestamped. */
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { TurnBatchedLog } from "./log_writer.ts";

/** A clock that starts at `start` and moves one second per reading. */
function ticking(start = "2026-05-04T09:12:03.000Z") {
  let t = Date.parse(start);
  return () => {
    const now = new Date(t);
    t += 1000;
    return now;
  };
}

function recorder(maxPerWrite = Infinity) {
  const writes: string[] = [];
  const decoder = new TextDecoder();
  const write = (bytes: Uint8Array) => {
    const n = Math.min(bytes.length, maxPerWrite);
    writes.push(decoder.decode(bytes.subarray(0, n)));
    return n;
  };
  return { writes, write };
}

Deno.test("lines logged in one turn go out in one write, in order, after the turn", async () => {
  const out = recorder();
  const batched = new TurnBatchedLog(out.write, ticking());
  batched.log("chat: a logged in");
  batched.log("chat: b logged in");
  assertEquals(out.writes, [], "nothing written inside the turn");
  await new Promise((resolve) => setTimeout(resolve, 0));
  batched.log("chat: c left");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(out.writes, [
    "2026-05-04T09:12:03.000Z chat: a logged in\n" +
    "2026-05-04T09:12:04.000Z chat: b logged in\n",
    "2026-05-04T09:12:05.000Z chat: c left\n",
  ]);
});

Deno.test("flush writes at once, finishes partial writes, and leaves no timer behind", () => {
  const out = recorder(5);
  const batched = new TurnBatchedLog(out.write, ticking());
  batched.log("stopping");
  batched.log("stopped");
  batched.flush();
  const expected = "2026-05-04T09:12:03.000Z stopping\n" +
    "2026-05-04T09:12:04.000Z stopped\n";
  assertEquals(out.writes.join(""), expected);
  batched.flush(); // nothing waiting: no write
  assertEquals(out.writes.join(""), expected);
});

Deno.test("a closed stdout loses the log but never throws into the server", () => {
  let attempts = 0;
  const batched = new TurnBatchedLog(() => {
    attempts++;
    throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
  });
  batched.log("chat: alice logged in");
  batched.flush();
  batched.log("chat: bob logged in");
  batched.flush();
  assertEquals(attempts, 2, "each batch tried once, then dropped");
});

Deno.test("each line carries the ISO-8601 UTC time it was logged at, not when it was written", async () => {
  const out = recorder();
  const batched = new TurnBatchedLog(out.write);
  const before = Date.now();
  batched.log("chat: listening on 127.0.0.1:7443");
  const after = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 0));
  const match =
    /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) chat: listening on 127\.0\.0\.1:7443\n$/
      .exec(out.writes.join(""));
  assert(match, out.writes.join(""));
  const at = Date.parse(match[1]!);
  assert(at >= before && at <= after, `${match[1]} not between the calls`);
});
