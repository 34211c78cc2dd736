/**
 * What a load scenario measured, from what the workers collected and the
 * CPU and memory samples taken at the edges of the measured window: rates,
 * loss, latency, CPU shares, and what limited the result.
 * @module
 */
import {
  cpuPercent,
  type CpuSample,
  machinePercent,
  type MachineSample,
  peakRssKiB,
  stealPercent,
  sysPercent,
} from "./proc_stats.ts";
import { type LatencySummary, summarizeLatency } from "./stats.ts";
import type { TargetProcess } from "./server_process.ts";

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

/** A worker's counters, as its `status` command answers. */
export interface Status {
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

/** A worker's `collect` answer: its counters and samples. */
export interface Collected extends Status {
  latencies: number[];
  errorSamples: string[];
  pongs: number;
  maxSendLagMs: number;
}

/** CPU and memory read at the edges of the measured window. */
export interface WindowSample {
  before: (CpuSample | null)[];
  after: (CpuSample | null)[];
  machineBefore: MachineSample;
  machineAfter: MachineSample;
  serverRss: number;
}

/** What of the scenario the result depends on (load_scenario.ts's LoadScenario has it). */
export interface ScenarioShape {
  members: number;
  durationMs: number;
  /** Total offered messages/s, or null for as fast as possible. */
  rate: number | null;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** CPU shares over the window (% of a core; the machine's of 200). */
function cpuShares(w: WindowSample) {
  const cpu = w.before.map((b, i) =>
    b && w.after[i] ? cpuPercent(b, w.after[i]!) : NaN
  );
  const machineCpuPct = machinePercent(w.machineBefore, w.machineAfter);
  return {
    serverCpuPct: cpu[0]!,
    serverSysCpuPct: w.before[0] && w.after[0]
      ? sysPercent(w.before[0], w.after[0])
      : NaN,
    generatorCpuPct: cpu.slice(1, -1),
    machineCpuPct,
    otherCpuPct: Math.max(0, machineCpuPct - sum(cpu)),
    stealPct: stealPercent(w.machineBefore, w.machineAfter),
  };
}

/** What limited the result, and whether it was the load generator. */
function limits(
  sc: ScenarioShape,
  target: TargetProcess,
  cpu: ReturnType<typeof cpuShares>,
): { generatorBound: boolean; limitedBy: string } {
  const maxWorker = Math.max(...cpu.generatorCpuPct);
  // the server below one full core while the generator (or the whole
  // 2-core machine) is full: the load generator limited this result
  const machineFull = cpu.machineCpuPct >= 180;
  const generatorBound = cpu.serverCpuPct < 90 &&
    (maxWorker >= 90 || machineFull);
  const limitedBy = cpu.serverCpuPct >= 90
    ? `${target.kind} CPU (one core saturated)`
    : generatorBound
    ? (maxWorker >= 90
      ? "load generator CPU (a worker at a full core)"
      : `machine CPU: server and generator fill both cores (${
        cpu.machineCpuPct.toFixed(0)
      }% of 200)`)
    : sc.rate === null
    ? "per-sender window / round trips"
    : "offered load";
  return { generatorBound, limitedBy };
}

/** The result of one run from what the workers collected. */
export function loadResult(
  sc: ScenarioShape,
  target: TargetProcess,
  setupSec: number,
  w: WindowSample,
  collected: Collected[],
): LoadResult {
  const sent = sum(collected.map((c) => c.sent));
  const expected = sent * (sc.members - 1);
  const delivered = sum(collected.map((c) => c.delivered));
  const windowSec = sc.durationMs / 1000;
  const cpu = cpuShares(w);
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
    ...cpu,
    serverRssKiB: w.serverRss,
    serverPeakRssKiB: peakRssKiB(target.pid),
    maxSendLagMs: Math.max(...collected.map((c) => c.maxSendLagMs)),
    pongs: sum(collected.map((c) => c.pongs)),
    ...limits(sc, target, cpu),
    errorSamples: collected.flatMap((c) => c.errorSamples).slice(0, 10),
  };
}
