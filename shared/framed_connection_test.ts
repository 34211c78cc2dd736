/**
 * FramedConnection over in-memory byte streams: frames split and merged
 * across chunks (with and without readChunk), writes of one turn coalesced
 * into one, the queue cap, and the write deadline (a stream whose write
 * never completes, as a peer that stopped reading looks from here).
 */
import { assert, assertEquals } from "./_test_assert.ts";
import { encodeFrame } from "./codec.ts";
import { concatBytes, fromUtf8 } from "./bytes.ts";
import { type ByteStream, FramedConnection } from "./framed_connection.ts";

/** A stream fed by the test; writes are recorded, or never complete when `stall`. */
class MemoryStream implements ByteStream {
  writes: Uint8Array[] = [];
  closed = false;
  stall = false;
  #chunks: Uint8Array[] = [];
  #ended = false;
  #wake: (() => void) | null = null;

  feed(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async next(): Promise<Uint8Array | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended || this.closed) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = null;
    }
    return this.#chunks.shift()!;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    const chunk = await this.next();
    if (chunk === null) return null;
    const n = Math.min(buffer.length, chunk.length);
    buffer.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#chunks.unshift(chunk.subarray(n));
    return n;
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.stall) return new Promise(() => {});
    this.writes.push(bytes.slice());
    return Promise.resolve(bytes.length);
  }

  close(): void {
    this.closed = true;
    this.#wake?.();
  }
}

/** The same stream, offering its chunks without a copy. */
class ChunkStream extends MemoryStream {
  readChunk(): Promise<Uint8Array | null> {
    return this.next();
  }
}

const limits = { maxFrameBytes: 1024, maxQueueBytes: 4096 };

async function collect(framed: FramedConnection): Promise<string[]> {
  const out: string[] = [];
  for await (const body of framed.bodies()) out.push(fromUtf8(body));
  return out;
}

for (const Stream of [MemoryStream, ChunkStream]) {
  Deno.test(`${Stream.name}: frames split and merged across chunks all arrive, in order`, async () => {
    const stream = new Stream();
    const framed = new FramedConnection(stream, limits);
    const bytes = concatBytes(
      encodeFrame({ t: "a", n: 1 }),
      encodeFrame({ t: "b", text: "x".repeat(300) }),
      encodeFrame({ t: "c" }),
    );
    const reading = collect(framed);
    // one byte, then a cut inside the second body, then the rest at once
    stream.feed(bytes.subarray(0, 1));
    stream.feed(bytes.subarray(1, 40));
    stream.feed(bytes.subarray(40));
    stream.end();
    const bodies = await reading;
    assertEquals(bodies.map((b) => JSON.parse(b).t), ["a", "b", "c"]);
    assertEquals(JSON.parse(bodies[1]!).text.length, 300);
  });
}

Deno.test("frames sent in one turn go out in one write", async () => {
  const stream = new MemoryStream();
  const framed = new FramedConnection(stream, limits);
  const frames = [1, 2, 3].map((n) => encodeFrame({ t: "m", n }));
  for (const f of frames) assert(framed.send(f));
  assertEquals(framed.queuedBytes, frames.reduce((a, f) => a + f.length, 0));
  await framed.drain();
  assertEquals(stream.writes.length, 1);
  assertEquals(stream.writes[0], concatBytes(...frames));
  assertEquals(framed.queuedBytes, 0);
  framed.close();
});

Deno.test("a full send queue drops the peer as a slow consumer", () => {
  const stream = new MemoryStream();
  stream.stall = true;
  const reasons: string[] = [];
  const framed = new FramedConnection(stream, limits, (r) => reasons.push(r));
  const frame = encodeFrame({ t: "m", pad: "x".repeat(900) });
  let sent = 0;
  while (framed.send(frame)) sent++;
  assertEquals(sent, Math.floor(limits.maxQueueBytes / frame.length));
  assert(stream.closed, "the stream is closed");
  assertEquals(reasons, ["send queue full (slow consumer)"]);
});

Deno.test("a write that never completes drops the peer at the write deadline, once", async () => {
  const stream = new MemoryStream();
  stream.stall = true;
  const dropped = Promise.withResolvers<string>();
  const reasons: string[] = [];
  const framed = new FramedConnection(
    stream,
    { ...limits, writeTimeoutMs: 50 },
    (reason) => {
      reasons.push(reason);
      dropped.resolve(reason);
    },
  );
  const started = performance.now();
  framed.send(encodeFrame({ t: "m" }));
  framed.send(encodeFrame({ t: "m" })); // queued behind the stalled write
  const reason = await dropped.promise;
  const waited = performance.now() - started;
  assert(/write deadline of 50 ms/.test(reason), reason);
  assert(
    waited >= 45,
    `dropped after ${waited.toFixed(0)} ms, before the deadline`,
  );
  assert(stream.closed && framed.closed, "closed");
  assertEquals(framed.send(encodeFrame({ t: "m" })), false);
  await framed.drain(); // resolves: nothing more will be written
  assertEquals(reasons.length, 1);
});

Deno.test("writes that keep completing are never dropped, however long the connection lives", async () => {
  const stream = new MemoryStream();
  const reasons: string[] = [];
  const framed = new FramedConnection(
    stream,
    { ...limits, writeTimeoutMs: 30 },
    (reason) => reasons.push(reason),
  );
  const until = performance.now() + 120; // four deadlines long
  let n = 0;
  while (performance.now() < until) {
    framed.send(encodeFrame({ t: "m", n: n++ }));
    await framed.drain();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assertEquals(reasons, []);
  assert(!stream.closed, "still open");
  assertEquals(stream.writes.length, n);
  framed.close(); // clears the deadline timer (the op sanitizer checks)
});

Deno.test("a frame larger than the queue is sent, small frames fill the other half, and one more drops the peer", () => {
  const stream = new MemoryStream();
  stream.stall = true;
  const reasons: string[] = [];
  const framed = new FramedConnection(stream, limits, (r) => reasons.push(r));
  const roster = encodeFrame({ t: "joined", pad: "x".repeat(6000) });
  assert(roster.length > limits.maxQueueBytes);
  assert(framed.send(roster), "a big room's roster goes out");
  // presence and messages behind it, up to the other half of the queue
  const small = encodeFrame({ t: "m", pad: "x".repeat(90) });
  const fitting = Math.floor(limits.maxQueueBytes / 2 / small.length);
  for (let i = 0; i < fitting; i++) {
    assert(framed.send(small), `small frame ${i} behind the roster`);
  }
  assertEquals(reasons, []);
  assertEquals(framed.fits(small.length), false);
  assertEquals(framed.send(small), false);
  assertEquals(reasons, ["send queue full (slow consumer)"]);
});

Deno.test("a second big frame does not fit while one is queued; after it is written it does", async () => {
  const stream = new GatedStream();
  const reasons: string[] = [];
  const framed = new FramedConnection(stream, limits, (r) => reasons.push(r));
  const roster = encodeFrame({ t: "joined", pad: "x".repeat(6000) });
  assert(framed.send(roster), "the first roster goes out");
  assertEquals(framed.fits(roster.length), false);
  // the other half of the queue is still there for small frames
  assert(framed.send(encodeFrame({ t: "presence" })));
  await stream.writing();
  stream.release();
  await framed.drain();
  assertEquals(framed.fits(roster.length), true);
  assertEquals(reasons, []);
  framed.close();
});

Deno.test("drain waits for the frames queued before it, not for later ones", async () => {
  const stream = new GatedStream();
  const framed = new FramedConnection(stream, limits);
  framed.send(encodeFrame({ t: "m", n: 1 }));
  const first = framed.drain();
  let drained = false;
  first.then(() => drained = true);
  await stream.writing(); // the first write is in flight
  framed.send(encodeFrame({ t: "m", n: 2 })); // queued behind it
  stream.release();
  await first;
  assert(drained);
  assertEquals(stream.done, 1, "drain resolved after the first write only");
  assertEquals(framed.queuedBytes, encodeFrame({ t: "m", n: 2 }).length);
  await stream.writing();
  stream.release();
  await framed.drain();
  assertEquals(stream.done, 2);
  assertEquals(framed.queuedBytes, 0);
  framed.close();
});

/** A stream whose writes complete only when the test releases them. */
class GatedStream extends MemoryStream {
  done = 0;
  #started = Promise.withResolvers<void>();
  #gate = Promise.withResolvers<void>();

  /** Resolves once a write is waiting on the gate. */
  writing(): Promise<void> {
    return this.#started.promise;
  }

  release(): void {
    const gate = this.#gate;
    this.#gate = Promise.withResolvers<void>();
    gate.resolve();
  }

  override async write(bytes: Uint8Array): Promise<number> {
    const gate = this.#gate.promise;
    this.#started.resolve();
    await gate;
    this.#started = Promise.withResolvers<void>();
    this.done++;
    return bytes.length;
  }
}
