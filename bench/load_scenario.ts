/**
 * One load scenario against one target (chat server or bare relay): start
 * it, connect every simulated member through the workers, warm up (each
 * sender rotates its key and sends once; every member gets it), then the
 * measured window (a fixed offered rate, or --asap with a bounded window
 * per sender), then drain and collect. Server CPU is read from /proc over
 * exactly the measured window.
 * @module
 */
import { now, sleep, sleepUntil } from "./clock.ts";
import { cpuSample, machineSample, rssKiB } from "./proc_stats.ts";
import {
  type Collected,
  type LoadResult,
  loadResult,
  type Status,
  type WindowSample,
} from "./load_result.ts";
import type { TargetProcess } from "./server_process.ts";
import type { MemberSpec } from "./worker_context.ts";
import { WorkerPool } from "./worker_pool.ts";
import type { CpuProfiler } from "./cpu_profile.ts";

export type { LoadResult } from "./load_result.ts";

/** What to simulate. */
export interface LoadScenario {
  name: string;
  members: number;
  senders: number;
  observers: number;
  /** Total offered messages/s, or null for as fast as possible. */
  rate: number | null;
  durationMs: number;
  payloadBytes: number;
  workers: number;
  /** --asap: messages each sender may have in flight (sent, not yet seen by its worker's pacer). */
  window: number;
  /** Senders send at the same instants instead of evenly spread. */
  inPhase: boolean;
}

/** Spread members over workers: senders first, then observers; one pacer per worker. */
export function assignRoles(sc: LoadScenario, workers: number): MemberSpec[][] {
  const out: MemberSpec[][] = Array.from({ length: workers }, () => []);
  for (let i = 0; i < sc.members; i++) {
    const role = i < sc.senders
      ? "sender"
      : i < sc.senders + sc.observers
      ? "observer"
      : "member";
    out[i % workers]!.push({ index: i, role, pacer: false });
  }
  for (const specs of out) {
    const pacer = specs.find((s) => s.role === "observer") ??
      specs.find((s) => s.role === "member");
    if (!pacer) {
      throw new RangeError(
        "every worker needs a member that is not a sender: use more --members or fewer --workers",
      );
    }
    pacer.pacer = true;
  }
  return out;
}

async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  detail: () => string,
  broken: () => string | null,
): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!await check()) {
    const failure = broken();
    if (failure) {
      throw new Error(
        `connections failed while waiting for ${what}: ${failure}`,
      );
    }
    if (now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${detail()}`);
    }
    await sleep(100);
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** What runLoad works with, and the workers' latest status. */
interface LoadRun {
  sc: LoadScenario;
  target: TargetProcess;
  log: (line: string) => void;
  profiler: CpuProfiler | null;
  pool: WorkerPool;
  status: Status[];
}

/** Ask every worker for its status (kept in run.status). */
async function poll(run: LoadRun): Promise<Status[]> {
  run.status = await run.pool.all<Status>(() => ({ cmd: "status" }));
  return run.status;
}

/** Poll until `done` says so; fail on a disconnect or after two minutes. */
function waitFor(
  run: LoadRun,
  what: string,
  done: (status: Status[]) => boolean,
): Promise<void> {
  return until(
    what,
    async () => done(await poll(run)),
    120_000,
    () => `${JSON.stringify(run.status)}\n${run.target.tail()}`,
    () =>
      run.status.some((s) => s.disconnects > 0)
        ? run.status.flatMap((s) => s.firstErrors).join("; ")
        : null,
  );
}

/** Build every worker's members, without connecting them. */
async function prepare(run: LoadRun, lineBytes: number): Promise<void> {
  const { sc, target, pool } = run;
  const specs = assignRoles(sc, pool.size);
  await pool.all((i) => ({
    cmd: "prepare",
    target: target.kind,
    port: target.port,
    caPem: target.caPem,
    room: target.kind === "chat" ? "bench" : null,
    payloadBytes: sc.payloadBytes,
    lineBytes,
    readBufferBytes: 64 * 1024,
    members: specs[i]!,
  }));
}

/** Connect every member: member 0 first, alone. */
async function connectAll(run: LoadRun): Promise<void> {
  const { sc, target, pool } = run;
  // The room is created by member 0 alone: the server loses members when
  // several joins create the same new room at once (see README, findings).
  const creator = await pool.request<{ failed: number; firstError: string }>(
    0,
    { cmd: "connect", concurrency: 1, only: [0] },
  );
  if (creator.failed) throw new Error(`member 0: ${creator.firstError}`);
  const connects = await pool.all<
    { connected: number; failed: number; firstError: string | null }
  >(() => ({ cmd: "connect", concurrency: 16 }));
  const failed = sum(connects.map((c) => c.failed));
  if (failed > 0) {
    throw new Error(
      `${failed} of ${sc.members} members could not connect: ${
        connects.find((c) => c.firstError)?.firstError
      }\n${target.tail()}`,
    );
  }
}

/** Connect everyone and wait until every sender knows the whole roster: seconds taken. */
async function setUp(run: LoadRun): Promise<number> {
  const { sc, target } = run;
  const setupStart = now();
  await connectAll(run);
  await waitFor(
    run,
    "every sender to see the whole roster",
    (status) =>
      status.every((s) =>
        s.minMembersKnown < 0 || s.minMembersKnown >= sc.members
      ),
  );
  const setupSec = (now() - setupStart) / 1000;
  run.log(
    `  ${target.kind}: ${sc.members} members in ${setupSec.toFixed(1)} s`,
  );
  return setupSec;
}

/** Every sender rotates and sends once; wait until every member got every one. */
async function warmUp(run: LoadRun): Promise<void> {
  const { sc, target, pool } = run;
  // a node:tls relay registers a peer only after its side of the handshake
  if (target.kind === "relay") await sleep(500);
  await pool.all(() => ({ cmd: "warmup" }));
  const warm = sc.senders * (sc.members - 1);
  await waitFor(
    run,
    "the warm-up messages",
    (status) => sum(status.map((s) => s.delivered)) >= warm,
  );
  await sleep(200);
}

/** Start the senders and sample CPU and memory over exactly the window. */
async function measuredWindow(run: LoadRun): Promise<WindowSample> {
  const { sc, target, pool, profiler } = run;
  const t0 = now() + 500;
  const ratePerSender = sc.rate === null ? null : sc.rate / sc.senders;
  const offsets: Record<string, number> = {};
  for (let k = 0; k < sc.senders; k++) {
    offsets[String(k)] = sc.rate === null || sc.inPhase
      ? 0
      : (k * 1000) / sc.rate;
  }
  await pool.all(() => ({
    cmd: "go",
    t0,
    durationMs: sc.durationMs,
    ratePerSender,
    window: sc.window,
    offsets,
  }));
  await sleepUntil(t0);
  const pids = [target.pid, ...pool.pids, Deno.pid];
  const before = pids.map(cpuSample);
  const machineBefore = machineSample();
  await profiler?.start();
  await sleepUntil(t0 + sc.durationMs);
  const after = pids.map(cpuSample);
  const machineAfter = machineSample();
  const serverRss = rssKiB(target.pid);
  await profiler?.stop(`${sc.name}-${target.kind}`);
  return { before, after, machineBefore, machineAfter, serverRss };
}

/** Wait until every sender is done and every expected delivery counted (or stalled). */
async function drain(run: LoadRun): Promise<void> {
  let last = -1, lastChange = now();
  const drainStart = now();
  while (true) {
    const status = await poll(run);
    const delivered = sum(status.map((s) => s.delivered));
    const done = sum(status.map((s) => s.sendersDone)) >=
      sum(status.map((s) => s.senders));
    const expected = sum(status.map((s) => s.sent)) * (run.sc.members - 1);
    if (done && delivered >= expected) break;
    if (delivered !== last) [last, lastChange] = [delivered, now()];
    if (now() - lastChange > 10_000 || now() - drainStart > 120_000) break;
    await sleep(100);
  }
}

/** Run `sc` against a started target; the caller stops the target. */
export async function runLoad(
  sc: LoadScenario,
  target: TargetProcess,
  lineBytes: number,
  log: (line: string) => void,
  profiler: CpuProfiler | null = null,
): Promise<LoadResult> {
  const pool = WorkerPool.start(sc.workers);
  try {
    const run: LoadRun = { sc, target, log, profiler, pool, status: [] };
    await prepare(run, lineBytes);
    const setupSec = await setUp(run);
    await warmUp(run);
    const sample = await measuredWindow(run);
    await drain(run);
    const collected = await pool.all<Collected>(() => ({ cmd: "collect" }));
    return loadResult(sc, target, setupSec, sample, collected);
  } finally {
    await pool.close();
  }
}
