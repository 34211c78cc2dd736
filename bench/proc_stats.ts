/**
 * Process and machine counters from /proc (Linux): CPU time of a process
 * (utime + stime of all its threads), resident memory, and how busy the
 * whole machine is. Reads are synchronous so a sample is taken exactly
 * when asked.
 * @module
 */
import { now } from "./clock.ts";

/** Clock ticks per second for /proc CPU times (`getconf CLK_TCK`; 100 on Linux). */
const CLK_TCK = 100;

/** CPU time of one process at one moment. */
export interface CpuSample {
  /** CPU milliseconds used so far (user + system, all threads). */
  cpuMs: number;
  /** …of which in the kernel (system calls, and loopback TCP work done on its behalf). */
  sysMs: number;
  /** When it was read (epoch ms). */
  at: number;
}

/** Read /proc/PID/stat: utime + stime, in ms. Null if the process is gone. */
export function cpuSample(pid: number): CpuSample | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  // Fields after the command name (which may contain spaces) start at "state".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return {
    cpuMs: ((utime + stime) * 1000) / CLK_TCK,
    sysMs: (stime * 1000) / CLK_TCK,
    at: now(),
  };
}

/** CPU used between two samples, as % of one core. */
export function cpuPercent(a: CpuSample, b: CpuSample): number {
  const wall = b.at - a.at;
  return wall > 0 ? ((b.cpuMs - a.cpuMs) / wall) * 100 : NaN;
}

function statusField(pid: number, field: string): number {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text);
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Kernel CPU used between two samples, as % of one core. */
export function sysPercent(a: CpuSample, b: CpuSample): number {
  const wall = b.at - a.at;
  return wall > 0 ? ((b.sysMs - a.sysMs) / wall) * 100 : NaN;
}

/** Resident memory now, in KiB (VmRSS). NaN if the process is gone. */
export function rssKiB(pid: number): number {
  return statusField(pid, "VmRSS");
}

/** Peak resident memory, in KiB (VmHWM). */
export function peakRssKiB(pid: number): number {
  return statusField(pid, "VmHWM");
}

/** Busy and total jiffies of the whole machine (first line of /proc/stat). */
export interface MachineSample {
  busy: number;
  total: number;
  /** Time the hypervisor ran something else while we had work (steal). */
  steal: number;
}

/** Read /proc/stat: all CPUs together. */
export function machineSample(): MachineSample {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const steal = v[7] ?? 0;
  return { busy: total - idle - steal, total, steal };
}

/** Steal between two samples, as % of ONE core: CPU the hypervisor gave to other guests. */
export function stealPercent(a: MachineSample, b: MachineSample): number {
  const total = b.total - a.total;
  const cores = navigator.hardwareConcurrency || 1;
  return total > 0 ? ((b.steal - a.steal) / total) * 100 * cores : NaN;
}

/** Machine busy between two samples (steal excluded), as % of ONE core (2 cores fully busy = 200). */
export function machinePercent(a: MachineSample, b: MachineSample): number {
  const total = b.total - a.total;
  const cores = navigator.hardwareConcurrency || 1;
  return total > 0 ? ((b.busy - a.busy) / total) * 100 * cores : NaN;
}
