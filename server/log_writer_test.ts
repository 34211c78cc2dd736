/** TurnBatchedLog: one write per turn, order kept, partial writes finished, flush at once. */
import { assertEquals } from "../shared/_test_assert.ts";
import { TurnBatchedLog } from "./log_writer.ts";

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
  const batched = new TurnBatchedLog(out.write);
  batched.log("chat: a logged in");
  batched.log("chat: b logged in");
  assertEquals(out.writes, [], "nothing written inside the turn");
  await new Promise((resolve) => setTimeout(resolve, 0));
  batched.log("chat: c left");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(out.writes, [
    "chat: a logged in\nchat: b logged in\n",
    "chat: c left\n",
  ]);
});

Deno.test("flush writes at once, finishes partial writes, and leaves no timer behind", () => {
  const out = recorder(5);
  const batched = new TurnBatchedLog(out.write);
  batched.log("stopping");
  batched.log("stopped");
  batched.flush();
  assertEquals(out.writes.join(""), "stopping\nstopped\n");
  batched.flush(); // nothing waiting: no write
  assertEquals(out.writes.join(""), "stopping\nstopped\n");
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
