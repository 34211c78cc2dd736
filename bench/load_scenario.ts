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
import {
  cpuPercent,
  cpuSample,
  machinePercent,
  machineSample,
  peakRssKiB,
  rssKiB,
  stealPercent,
  sysPercent,
} from "./proc_stats.ts";
import { type LatencySummary, summarizeLatency } from "./stats.ts";
import type { TargetProcess } from "./server_process.ts";
import type { MemberSpec } from "./worker_context.ts";
import { WorkerPool } from "./worker_pool.ts";
import type { CpuProfiler } from "./cpu_profile.ts";

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

/** What one target did in one scenario. */
export interface LoadResult {
  target: "chat" | "relay";
  setupSec: number;
  sentPerSec: number;
  deliveredPerSec: number;
  latencyMs: LatencySummary;
  expected: number;
  delivered: number;
  loss: number;
  errors: number;
  disconnects: number;
  serverCpuPct: number;
  /** …of which in the kernel (syscalls; loopback TCP is charged to the writer). */
  serverSysCpuPct: number;
  serverRssKiB: number;
  serverPeakRssKiB: number;
  generatorCpuPct: number[];
  machineCpuPct: number;
  /** Machine CPU not used by the server, the workers or the coordinator (other work on the box). */
  otherCpuPct: number;
  /** CPU the hypervisor gave to other guests while we wanted it (% of a core). */
  stealPct: number;
  maxSendLagMs: number;
  pongs: number;
  generatorBound: boolean;
  limitedBy: string;
  errorSamples: string[];
}

interface Status {
  delivered: number;
  deliveredInWindow: number;
  errors: number;
  errorsTotal: number;
  disconnects: number;
  sent: number;
  sendersDone: number;
  senders: number;
  minMembersKnown: number;
  firstErrors: string[];
}

interface Collected extends Status {
  latencies: number[];
  errorSamples: string[];
  pongs: number;
  maxSendLagMs: number;
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
    const setupStart = now();
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
    let status: Status[] = [];
    const poll = async () => {
      status = await pool.all<Status>(() => ({ cmd: "status" }));
    };
    const broken = () =>
      status.some((s) => s.disconnects > 0)
        ? status.flatMap((s) => s.firstErrors).join("; ")
        : null;
    await until(
      "every sender to see the whole roster",
      async () => {
        await poll();
        return status.every((s) =>
          s.minMembersKnown < 0 || s.minMembersKnown >= sc.members
        );
      },
      120_000,
      () => `${JSON.stringify(status)}\n${target.tail()}`,
      broken,
    );
    const setupSec = (now() - setupStart) / 1000;
    log(`  ${target.kind}: ${sc.members} members in ${setupSec.toFixed(1)} s`);
    // a node:tls relay registers a peer only after its side of the handshake
    if (target.kind === "relay") await sleep(500);
    await pool.all(() => ({ cmd: "warmup" }));
    const warm = sc.senders * (sc.members - 1);
    await until(
      "the warm-up messages",
      async () => {
        await poll();
        return sum(status.map((s) => s.delivered)) >= warm;
      },
      120_000,
      () => `${JSON.stringify(status)}\n${target.tail()}`,
      broken,
    );
    await sleep(200);

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
    const cpu = before.map((b, i) =>
      b && after[i] ? cpuPercent(b, after[i]!) : NaN
    );

    // drain: every sender done, and every expected delivery counted (or stalled)
    let last = -1, lastChange = now();
    const drainStart = now();
    while (true) {
      await poll();
      const delivered = sum(status.map((s) => s.delivered));
      const done = sum(status.map((s) => s.sendersDone)) >=
        sum(status.map((s) => s.senders));
      const expected = sum(status.map((s) => s.sent)) * (sc.members - 1);
      if (done && delivered >= expected) break;
      if (delivered !== last) [last, lastChange] = [delivered, now()];
      if (now() - lastChange > 10_000 || now() - drainStart > 120_000) break;
      await sleep(100);
    }
    const collected = await pool.all<Collected>(() => ({ cmd: "collect" }));
    const sent = sum(collected.map((c) => c.sent));
    const expected = sent * (sc.members - 1);
    const delivered = sum(collected.map((c) => c.delivered));
    const windowSec = sc.durationMs / 1000;
    const serverCpuPct = cpu[0]!;
    const serverSysCpuPct = before[0] && after[0]
      ? sysPercent(before[0], after[0])
      : NaN;
    const generatorCpuPct = cpu.slice(1, -1);
    const machineCpuPct = machinePercent(machineBefore, machineAfter);
    const otherCpuPct = Math.max(0, machineCpuPct - sum(cpu));
    const maxWorker = Math.max(...generatorCpuPct);
    // the server below one full core while the generator (or the whole
    // 2-core machine) is full: the load generator limited this result
    const machineFull = machineCpuPct >= 180;
    const generatorBound = serverCpuPct < 90 &&
      (maxWorker >= 90 || machineFull);
    return {
      target: target.kind,
      setupSec,
      sentPerSec: sent / windowSec,
      deliveredPerSec: sum(collected.map((c) => c.deliveredInWindow)) /
        windowSec,
      latencyMs: summarizeLatency(collected.flatMap((c) => c.latencies)),
      expected,
      delivered,
      loss: Math.max(0, expected - delivered),
      errors: sum(collected.map((c) => c.errors)),
      disconnects: sum(collected.map((c) => c.disconnects)),
      serverCpuPct,
      serverSysCpuPct,
      serverRssKiB: serverRss,
      serverPeakRssKiB: peakRssKiB(target.pid),
      generatorCpuPct,
      machineCpuPct,
      otherCpuPct,
      stealPct: stealPercent(machineBefore, machineAfter),
      maxSendLagMs: Math.max(...collected.map((c) => c.maxSendLagMs)),
      pongs: sum(collected.map((c) => c.pongs)),
      generatorBound,
      limitedBy: serverCpuPct >= 90
        ? `${target.kind} CPU (one core saturated)`
        : generatorBound
        ? (maxWorker >= 90
          ? "load generator CPU (a worker at a full core)"
          : `machine CPU: server and generator fill both cores (${
            machineCpuPct.toFixed(0)
          }% of 200)`)
        : sc.rate === null
        ? "per-sender window / round trips"
        : "offered load",
      errorSamples: collected.flatMap((c) => c.errorSamples).slice(0, 10),
    };
  } finally {
    await pool.close();
  }
}
