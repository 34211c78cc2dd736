/**
 * `deno task bench`: the load generator and benchmark report for `chat`.
 * Runs each scenario against a real `chat serve` subprocess and against
 * the bare relay in the same run, then the client crypto microbenchmarks,
 * prints markdown tables on stdout (progress on stderr) and writes the
 * full report as JSON with --json. See bench/README.md.
 * @module
 */
import { join } from "node:path";
import { toBase64Url } from "../shared/bytes.ts";
import { ciphertextBytes } from "../shared/crypto/envelope.ts";
import { relayedMessageFrame } from "../shared/message_frame.ts";
import { encodeServerFrame } from "../shared/server_frames.ts";
import { ensureLocalCertificates } from "../server/local_ca.ts";
import { CpuProfiler, freePort, type ProfileSummary } from "./cpu_profile.ts";
import { runCryptoMicro } from "./crypto_micro.ts";
import { ensureIdentities } from "./identities.ts";
import {
  type IdleResult,
  type IdleScenario,
  runIdle,
} from "./idle_scenario.ts";
import {
  type LoadResult,
  type LoadScenario,
  runLoad,
} from "./load_scenario.ts";
import { judgeTargets } from "./targets.ts";
import { sleep } from "./clock.ts";
import { machinePercent, machineSample } from "./proc_stats.ts";
import { type BenchPlan, parseBenchArgs, USAGE } from "./options.ts";
import {
  type BenchReport,
  type IdleEntry,
  idleRatio,
  type LoadEntry,
  loadRatio,
  renderReport,
} from "./report.ts";
import {
  startChatServer,
  startRelay,
  type TargetProcess,
} from "./server_process.ts";

const log = (line: string) => console.error(line);

/** Bytes of the `msg` frame the chat server relays for a text of `payload` bytes. */
function relayedFrameBytes(payload: number): number {
  const b64 = (bytes: number) => toBase64Url(new Uint8Array(bytes));
  return encodeServerFrame(relayedMessageFrame(
    {
      room: "bench",
      seq: 12345,
      id: crypto.randomUUID(),
      epoch: 2,
      counter: 1234,
      ts: Date.now(),
      iv: b64(12),
      ct: b64(ciphertextBytes(payload)),
      sig: b64(64),
    },
    "bench123",
    false,
  )).length;
}

async function startTarget(
  kind: "chat" | "relay",
  dir: string,
  plan: BenchPlan,
  profile: boolean,
): Promise<{ target: TargetProcess; profiler: CpuProfiler | null }> {
  if (kind === "relay") {
    return { target: await startRelay(dir, plan.baseline), profiler: null };
  }
  const inspect = profile ? [`--inspect=127.0.0.1:${freePort()}`] : [];
  const target = await startChatServer({
    dir,
    extraArgs: plan.serverArgs,
    denoArgs: inspect,
  });
  if (!profile) return { target, profiler: null };
  const url = /ws:\/\/\S+/.exec(target.tail())?.[0];
  if (!url) throw new Error(`no inspector URL in:\n${target.tail()}`);
  return { target, profiler: await CpuProfiler.attach(url) };
}

/** The commit measured, and whether product code differs from it. */
async function sourceVersion(): Promise<{ commit: string; dirty: boolean }> {
  const git = async (...args: string[]) => {
    try {
      const out = await new Deno.Command("git", {
        args,
        cwd: new URL("..", import.meta.url).pathname,
        stdout: "piped",
        stderr: "null",
      }).output();
      return new TextDecoder().decode(out.stdout).trim();
    } catch {
      return "";
    }
  };
  const commit = await git("rev-parse", "--short", "HEAD");
  const dirty = await git(
    "status",
    "--porcelain",
    "--",
    "main.ts",
    "server",
    "shared",
    "client",
  );
  return { commit: commit || "unknown", dirty: dirty.length > 0 };
}

/** Machine CPU (% of one core) busy over `ms` before we start anything. */
async function backgroundLoad(ms: number): Promise<number> {
  const a = machineSample();
  await sleep(ms);
  return machinePercent(a, machineSample());
}

/** Machine CPU busy before we start (warned about when over 20 %). */
async function checkBackground(): Promise<number> {
  const backgroundCpuPct = await backgroundLoad(1000);
  if (backgroundCpuPct > 20) {
    log(
      `warning: the machine is already ${
        backgroundCpuPct.toFixed(0)
      }% busy (other processes): numbers will be disturbed`,
    );
  }
  return backgroundCpuPct;
}

/** Make sure the identity cache holds every simulated user of the plan. */
async function cacheIdentities(plan: BenchPlan): Promise<void> {
  const needed = Math.max(
    2,
    ...plan.loads.map((l) => l.members),
    ...plan.idle.map((i) => i.connections),
  );
  const generated = await ensureIdentities(needed);
  if (generated > 0) {
    log(`generated identities in ${(generated / 1000).toFixed(1)} s (cached)`);
  }
}

/** Starts a target per scenario and stops it after; keeps profiles and failures. */
class TargetRunner {
  readonly profiles: ProfileSummary[] = [];
  readonly failures: string[] = [];
  #dir: string;
  #plan: BenchPlan;

  constructor(dir: string, plan: BenchPlan) {
    this.#dir = dir;
    this.#plan = plan;
  }

  /** Start a target, run `work` on it, stop it; a failure is recorded, not thrown. */
  async on<T>(
    kind: "chat" | "relay",
    label: string,
    work: (target: TargetProcess, profiler: CpuProfiler | null) => Promise<T>,
  ): Promise<T | null> {
    let started: Awaited<ReturnType<typeof startTarget>> | null = null;
    try {
      started = await startTarget(
        kind,
        this.#dir,
        this.#plan,
        this.#plan.profile,
      );
      return await work(started.target, started.profiler);
    } catch (error) {
      const message = `${label} on ${kind}: ${(error as Error).message}`;
      this.failures.push(message);
      log(`  ${kind}: FAILED: ${message.slice(0, 2000)}`);
      return null;
    } finally {
      if (started?.profiler) this.profiles.push(...started.profiler.summaries);
      started?.profiler?.close();
      await started?.target.stop();
    }
  }
}

/** How to run one kind of scenario on a target and compare the two targets. */
interface ScenarioKind<S, R> {
  label(sc: S): string;
  run(sc: S, target: TargetProcess, profiler: CpuProfiler | null): Promise<R>;
  ratio(chat: R, relay: R): Record<string, number>;
  /** A progress line for one target's result, if any. */
  say?(kind: "chat" | "relay", result: R): void;
}

/** Every scenario of one kind on every target, with the chat ÷ relay ratios. */
async function runScenarios<S, R>(
  plan: BenchPlan,
  runner: TargetRunner,
  scenarios: S[],
  kind: ScenarioKind<S, R>,
) {
  const entries = [];
  for (const sc of scenarios) {
    const label = kind.label(sc);
    log(label);
    const entry = {
      scenario: sc,
      chat: null as R | null,
      relay: null as R | null,
      ratio: null as Record<string, number> | null,
    };
    for (const target of plan.targets) {
      const result = await runner.on(
        target,
        label,
        (t, p) => kind.run(sc, t, p),
      );
      entry[target] = result;
      if (result) kind.say?.(target, result);
    }
    if (entry.chat && entry.relay) {
      entry.ratio = kind.ratio(entry.chat, entry.relay);
    }
    entries.push(entry);
  }
  return entries;
}

const LOAD: ScenarioKind<LoadScenario, LoadResult> = {
  label: (sc) => `load ${sc.name}`,
  run: (sc, t, p) => runLoad(sc, t, relayedFrameBytes(sc.payloadBytes), log, p),
  ratio: loadRatio,
  say: (kind, r) =>
    log(
      `  ${kind}: ${r.deliveredPerSec.toFixed(0)} deliveries/s, p99 ${
        r.latencyMs.p99.toFixed(2)
      } ms, CPU ${
        r.serverCpuPct.toFixed(1)
      }%, loss ${r.loss}, errors ${r.errors}`,
    ),
};

const IDLE: ScenarioKind<IdleScenario, IdleResult> = {
  label: (sc) => `idle ${sc.connections}`,
  run: (sc, t, p) => runIdle(sc, t, log, p),
  ratio: idleRatio,
};

async function run(plan: BenchPlan, args: string[]): Promise<BenchReport> {
  const backgroundCpuPct = await checkBackground();
  const started = performance.now();
  const startedAt = new Date().toISOString();
  await cacheIdentities(plan);
  const dir = await Deno.makeTempDir({ prefix: "chat-bench-" });
  const runner = new TargetRunner(dir, plan);
  let loads: LoadEntry[], idle: IdleEntry[];
  try {
    await ensureLocalCertificates(join(dir, "certs"), ["127.0.0.1"]);
    loads = await runScenarios(plan, runner, plan.loads, LOAD);
    idle = await runScenarios(plan, runner, plan.idle, IDLE);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  let crypto = null;
  if (plan.crypto) {
    log("client crypto");
    crypto = await runCryptoMicro(plan.crypto);
  }
  return {
    format: "chat-bench-v1",
    startedAt,
    seconds: (performance.now() - started) / 1000,
    machine: {
      cpus: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      kernel: Deno.osRelease(),
      backgroundCpuPct,
    },
    args,
    source: await sourceVersion(),
    quick: plan.quick,
    baseline: plan.baseline,
    loads,
    idle,
    crypto,
    targets: judgeTargets(loads, idle, crypto),
    profiles: runner.profiles,
    failures: runner.failures,
  };
}

if (import.meta.main) {
  let plan: BenchPlan | "help";
  try {
    plan = parseBenchArgs(Deno.args);
  } catch (error) {
    console.error(`bench: error: ${(error as Error).message}`);
    console.error("bench: hint: deno task bench --help");
    Deno.exit(2);
  }
  if (plan === "help") {
    console.log(USAGE);
    Deno.exit(0);
  }
  try {
    const report = await run(plan, Deno.args);
    console.log(renderReport(report));
    if (plan.jsonPath) {
      await Deno.writeTextFile(
        plan.jsonPath,
        JSON.stringify(report, null, 2) + "\n",
      );
    }
    if (report.failures.length > 0) Deno.exit(1);
  } catch (error) {
    console.error(`bench: error: ${(error as Error).stack ?? error}`);
    Deno.exit(1);
  }
}
