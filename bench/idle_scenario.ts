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

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Run one idle scenario against a freshly started target. */
export async function runIdle(
  sc: IdleScenario,
  target: TargetProcess,
  log: (line: string) => void,
  profiler: CpuProfiler | null = null,
): Promise<IdleResult> {
  const pool = WorkerPool.start(sc.workers);
  try {
    const specs: MemberSpec[][] = Array.from({ length: pool.size }, () => []);
    for (let i = 0; i < sc.connections; i++) {
      specs[i % pool.size]!.push({ index: i, role: "member", pacer: false });
    }
    const prepare = () =>
      pool.all((i) => ({
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
    const pids = [target.pid, ...pool.pids, Deno.pid];
    const pass = async (profile: string | null) => {
      const cpu0 = pids.map(cpuSample);
      const machine0 = machineSample();
      if (profile) await profiler?.start();
      const started = now();
      const results = await pool.all<Connected>(() => ({
        cmd: "connect",
        concurrency: sc.concurrency,
      }));
      const seconds = (now() - started) / 1000;
      if (profile) await profiler?.stop(profile);
      const cpu1 = pids.map(cpuSample);
      const machine = machinePercent(machine0, machineSample());
      const cpu = cpu0.map((c, i) =>
        c && cpu1[i] ? cpuPercent(c, cpu1[i]!) : NaN
      );
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
    };
    await prepare();
    await sleep(1000);
    const heapBefore = await profiler?.heapUsedKiB() ?? NaN;
    const rssBefore = rssKiB(target.pid);
    const first = await pass(`idle-${sc.connections}-first-logins`);
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
      log(
        `  heap snapshot: ${await profiler.heapSnapshot(
          `idle-${sc.connections}`,
        )}`,
      );
    }
    const status = await pool.all<{ errorsTotal: number }>(() => ({
      cmd: "status",
    }));
    await pool.all(() => ({ cmd: "close" }));
    await sleep(1000);
    await prepare();
    const second = await pass(`idle-${sc.connections}-returning-logins`);
    log(`  ${target.kind}: again at ${second.perSec.toFixed(0)}/s`);
    return {
      target: target.kind,
      connections: first.connected,
      failed: first.failed + second.failed,
      firstLoginsPerSec: first.perSec,
      loginsPerSec: second.perSec,
      serverCpuPctAtLogin: second.cpu,
      generatorCpuPct: second.generatorCpuPct,
      otherCpuPct: Math.max(first.otherCpuPct, second.otherCpuPct),
      rssBeforeKiB: rssBefore,
      rssAfterKiB: rssAfter,
      rssPerConnectionKiB: first.connected
        ? (rssAfter - rssBefore) / first.connected
        : NaN,
      rssIdleKiB: rssIdle,
      rssIdlePerConnectionKiB: first.connected
        ? (rssIdle - rssBefore) / first.connected
        : NaN,
      jsHeapPerConnectionKiB: (heapAfter - heapBefore) / first.connected,
      errors: sum(status.map((s) => s.errorsTotal)) + first.failed +
        second.failed,
      firstError: first.firstError ?? second.firstError,
    };
  } finally {
    await pool.close();
  }
}
