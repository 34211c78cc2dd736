/**
 * Idle capacity: hold N logged-in TLS connections (no room joined: a room
 * of 10,000 would cost O(N²) roster traffic to set up) and measure the
 * server's resident memory per connection and how fast it accepts logins.
 * The chat server is logged into twice: the first pass registers every
 * name (a durable SQLite insert each), the connections are held and RSS is
 * read; then all close and the second pass measures returning users.
 * @module
 */
import { now, sleep } from "./clock.ts";
import {
  cpuPercent,
  cpuSample,
  machinePercent,
  machineSample,
  rssKiB,
} from "./proc_stats.ts";
import type { TargetProcess } from "./server_process.ts";
import type { MemberSpec } from "./worker_context.ts";
import { WorkerPool } from "./worker_pool.ts";
import type { CpuProfiler } from "./cpu_profile.ts";

/** What to hold. */
export interface IdleScenario {
  connections: number;
  workers: number;
  /** Logins in flight per worker. */
  concurrency: number;
  /**
   * Seconds the connections are then held idle before RSS is read again:
   * right after a login burst the heap still holds its garbage (V8 collects
   * it on its own some seconds later, with nothing allocating).
   */
  settleSeconds: number;
}

/** What one target did. */
export interface IdleResult {
  target: "chat" | "relay";
  connections: number;
  failed: number;
  /** First pass: TLS + login (for chat: registering the name). */
  firstLoginsPerSec: number;
  /** Second pass: the same users again (for the relay: another TLS pass). */
  loginsPerSec: number;
  serverCpuPctAtLogin: number;
  /** Worker CPU (% of a core each) during the returning logins. */
  generatorCpuPct: number[];
  /** Machine CPU used by other work during the logins (worst of the two passes). */
  otherCpuPct: number;
  rssBeforeKiB: number;
  /** RSS 2 s after the first (registering) login pass. */
  rssAfterKiB: number;
  /** (rssAfterKiB − rssBeforeKiB) ÷ connections: right after the logins. */
  rssPerConnectionKiB: number;
  /** RSS after the connections were held idle for settleSeconds more. */
  rssIdleKiB: number;
  /** (rssIdleKiB − rssBeforeKiB) ÷ connections: the idle cost of a connection. */
  rssIdlePerConnectionKiB: number;
  /** With --profile: live JS heap per connection after a full GC (KiB), else NaN. */
  jsHeapPerConnectionKiB: number;
  errors: number;
  firstError: string | null;
}

interface Connected {
  connected: number;
  failed: number;
  firstError: string | null;
}

/** One pass of logins over every connection, and what it cost. */
interface LoginPass {
  connected: number;
  failed: number;
  firstError: string | null;
  perSec: number;
  /** The target's CPU (% of a core). */
  cpu: number;
  generatorCpuPct: number[];
  otherCpuPct: number;
}

/** The target's memory around the first pass (KiB). */
interface IdleMemory {
  rssBefore: number;
  rssAfter: number;
  rssIdle: number;
  heapBefore: number;
  heapAfter: number;
}

/** What runIdle works with. */
interface IdleRun {
  sc: IdleScenario;
  target: TargetProcess;
  log: (line: string) => void;
  profiler: CpuProfiler | null;
  pool: WorkerPool;
  /** The target's, the workers' and this process's pids (CPU samples). */
  pids: number[];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Build every worker's members (no room) without connecting them. */
function prepare({ sc, target, pool }: IdleRun): Promise<unknown> {
  const specs: MemberSpec[][] = Array.from({ length: pool.size }, () => []);
  for (let i = 0; i < sc.connections; i++) {
    specs[i % pool.size]!.push({ index: i, role: "member", pacer: false });
  }
  return pool.all((i) => ({
    cmd: "prepare",
    target: target.kind,
    port: target.port,
    caPem: target.caPem,
    room: null,
    payloadBytes: 64,
    lineBytes: 64,
    readBufferBytes: 4 * 1024,
    members: specs[i]!,
  }));
}

/** Connect (and log in) every member, profiled as `profile` if profiling. */
async function loginPass(run: IdleRun, profile: string): Promise<LoginPass> {
  const { pool, pids, profiler } = run;
  const cpu0 = pids.map(cpuSample);
  const machine0 = machineSample();
  await profiler?.start();
  const started = now();
  const results = await pool.all<Connected>(() => ({
    cmd: "connect",
    concurrency: run.sc.concurrency,
  }));
  const seconds = (now() - started) / 1000;
  await profiler?.stop(profile);
  const cpu1 = pids.map(cpuSample);
  const machine = machinePercent(machine0, machineSample());
  const cpu = cpu0.map((c, i) => c && cpu1[i] ? cpuPercent(c, cpu1[i]!) : NaN);
  const connected = sum(results.map((r) => r.connected));
  return {
    connected,
    failed: sum(results.map((r) => r.failed)),
    firstError: results.find((r) => r.firstError)?.firstError ?? null,
    perSec: connected / seconds,
    cpu: cpu[0]!,
    generatorCpuPct: cpu.slice(1, -1),
    otherCpuPct: Math.max(0, machine - sum(cpu)),
  };
}

/** The first (registering) pass, with the target's memory before, after and idle. */
async function firstLogins(
  run: IdleRun,
): Promise<{ first: LoginPass; memory: IdleMemory }> {
  const { sc, target, log, profiler } = run;
  const heapBefore = await profiler?.heapUsedKiB() ?? NaN;
  const rssBefore = rssKiB(target.pid);
  const first = await loginPass(run, `idle-${sc.connections}-first-logins`);
  log(
    `  ${target.kind}: ${first.connected} connections at ${
      first.perSec.toFixed(0)
    }/s`,
  );
  await sleep(2000);
  const rssAfter = rssKiB(target.pid);
  await sleep(sc.settleSeconds * 1000);
  const rssIdle = rssKiB(target.pid);
  log(
    `  ${target.kind}: ${
      ((rssAfter - rssBefore) / first.connected).toFixed(1)
    } kB/connection after logins, ${
      ((rssIdle - rssBefore) / first.connected).toFixed(1)
    } after ${sc.settleSeconds} s idle`,
  );
  const heapAfter = await profiler?.heapUsedKiB() ?? NaN;
  if (profiler) {
    const file = await profiler.heapSnapshot(`idle-${sc.connections}`);
    log(`  heap snapshot: ${file}`);
  }
  return {
    first,
    memory: { rssBefore, rssAfter, rssIdle, heapBefore, heapAfter },
  };
}

/** The result of both passes. */
function idleResult(
  target: TargetProcess,
  first: LoginPass,
  second: LoginPass,
  memory: IdleMemory,
  workerErrors: number,
): IdleResult {
  const perConnection = (kib: number) =>
    first.connected ? (kib - memory.rssBefore) / first.connected : NaN;
  return {
    target: target.kind,
    connections: first.connected,
    failed: first.failed + second.failed,
    firstLoginsPerSec: first.perSec,
    loginsPerSec: second.perSec,
    serverCpuPctAtLogin: second.cpu,
    generatorCpuPct: second.generatorCpuPct,
    otherCpuPct: Math.max(first.otherCpuPct, second.otherCpuPct),
    rssBeforeKiB: memory.rssBefore,
    rssAfterKiB: memory.rssAfter,
    rssPerConnectionKiB: perConnection(memory.rssAfter),
    rssIdleKiB: memory.rssIdle,
    rssIdlePerConnectionKiB: perConnection(memory.rssIdle),
    jsHeapPerConnectionKiB: (memory.heapAfter - memory.heapBefore) /
      first.connected,
    errors: workerErrors + first.failed + second.failed,
    firstError: first.firstError ?? second.firstError,
  };
}

/** Run one idle scenario against a freshly started target. */
export async function runIdle(
  sc: IdleScenario,
  target: TargetProcess,
  log: (line: string) => void,
  profiler: CpuProfiler | null = null,
): Promise<IdleResult> {
  const pool = WorkerPool.start(sc.workers);
  try {
    const pids = [target.pid, ...pool.pids, Deno.pid];
    const run: IdleRun = { sc, target, log, profiler, pool, pids };
    await prepare(run);
    await sleep(1000);
    const { first, memory } = await firstLogins(run);
    const status = await pool.all<{ errorsTotal: number }>(() => ({
      cmd: "status",
    }));
    await pool.all(() => ({ cmd: "close" }));
    await sleep(1000);
    await prepare(run);
    const second = await loginPass(
      run,
      `idle-${sc.connections}-returning-logins`,
    );
    log(`  ${target.kind}: again at ${second.perSec.toFixed(0)}/s`);
    const workerErrors = sum(status.map((s) => s.errorsTotal));
    return idleResult(target, first, second, memory, workerErrors);
  } finally {
    await pool.close();
  }
}
