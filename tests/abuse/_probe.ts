/**
 * The yardstick for every attack test: two real `chat join --json` clients
 * keep chatting while the attack runs, and the server's memory is sampled.
 * Afterwards a test asserts that the server stayed up, its RSS grew by less
 * than the bound (during and after), the chatting client's send → ack round
 * trip stayed low at p99, and every message it sent reached the other member
 * exactly once.
 * @module
 */
import { assert, assertEquals } from "../../shared/_test_assert.ts";
import { ClientProcess, type ServerProcess } from "../_harness.ts";

/**
 * `deno task attack` runs these tests at full size (CHAT_ATTACK_SCALE=full,
 * the numbers of issue 13); the test suite runs them small enough for CI.
 */
export const FULL_SCALE = Deno.env.get("CHAT_ATTACK_SCALE") === "full";

/** `ci` in the test suite, `full` under `deno task attack`. */
export function scaled<T>(ci: T, full: T): T {
  return FULL_SCALE ? full : ci;
}

/**
 * An attacker's steady pace: call `send(i)` for i = 0, 1, … `perSecond`
 * times a second until `until` (performance.now()); resolves how many went.
 */
export async function sendAtPace(
  perSecond: number,
  until: number,
  send: (i: number) => Promise<void>,
): Promise<number> {
  let sent = 0;
  while (performance.now() < until) {
    await send(sent++);
    // the attack's own pace, not a wait for anything
    await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond));
  }
  return sent;
}

/** The server's resident memory in KiB (Linux /proc). */
export async function rssKiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  assert(match, `no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/** The server's RSS, sampled every 100 ms until stopped. */
export class RssSampler implements AsyncDisposable {
  readonly baselineKiB: number;
  peakKiB: number;
  #pid: number;
  #running = true;
  #loop: Promise<void>;

  private constructor(pid: number, baselineKiB: number) {
    this.#pid = pid;
    this.baselineKiB = baselineKiB;
    this.peakKiB = baselineKiB;
    this.#loop = this.#sample();
  }

  /** Start sampling `pid` (the baseline is read now). */
  static async start(pid: number): Promise<RssSampler> {
    return new RssSampler(pid, await rssKiB(pid));
  }

  async #sample(): Promise<void> {
    while (this.#running) {
      this.peakKiB = Math.max(this.peakKiB, await rssKiB(this.#pid));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stop sampling; resolves the growth at the peak, in MiB. */
  async stop(): Promise<number> {
    this.#running = false;
    await this.#loop;
    return (this.peakKiB - this.baselineKiB) / 1024;
  }

  /** The growth now over the baseline, in MiB. */
  async growthNowMiB(): Promise<number> {
    return (await rssKiB(this.#pid) - this.baselineKiB) / 1024;
  }

  /** `await using`: stop sampling. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

/** What the chatting pair measured. */
export interface ProbeReport {
  /** Messages alice sent (each acknowledged before the next). */
  sent: string[];
  /** Send → own-message (ack) round trips, ms. */
  roundTripsMs: number[];
  /** The 99th percentile of roundTripsMs. */
  p99Ms: number;
  /** How often bob received each of alice's texts. */
  receivedByBob: Map<string, number>;
}

/** The p-th percentile (0-100) of `values` (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/**
 * Two normal members of #general (alice talks, bob listens) chatting at
 * `everyMs` while an attack runs. Start it, run the attack, then `finish()`.
 */
export class ChatProbe implements AsyncDisposable {
  readonly alice: ClientProcess;
  readonly bob: ClientProcess;
  #everyMs: number;
  #running = true;
  #loop: Promise<void> = Promise.resolve();
  #sent: string[] = [];
  #rtts: number[] = [];

  private constructor(
    alice: ClientProcess,
    bob: ClientProcess,
    everyMs: number,
  ) {
    this.alice = alice;
    this.bob = bob;
    this.#everyMs = everyMs;
  }

  /** Log alice and bob in to `server` and start alice talking every `everyMs`. */
  static async start(
    server: ServerProcess,
    everyMs = 200,
  ): Promise<ChatProbe> {
    const alice = await ClientProcess.ready(server, "alice");
    const bob = await ClientProcess.ready(server, "bob");
    await alice.waitFor((e) => e.type === "join" && e.user === "bob", "bob");
    const probe = new ChatProbe(alice, bob, everyMs);
    probe.#loop = probe.#talk();
    return probe;
  }

  async #talk(): Promise<void> {
    for (let i = 1; this.#running; i++) {
      const text = `probe ${i}`;
      const started = performance.now();
      await this.alice.say(text);
      this.#rtts.push(performance.now() - started);
      this.#sent.push(text);
      await new Promise((resolve) => setTimeout(resolve, this.#everyMs));
    }
  }

  /** Stop talking; wait until bob has every message alice sent; report. */
  async finish(): Promise<ProbeReport> {
    this.#running = false;
    await this.#loop;
    const last = this.#sent.at(-1);
    if (last) await this.bob.waitFor((e) => e.text === last, "the last probe");
    const receivedByBob = new Map<string, number>();
    for (const e of this.bob.received()) {
      const text = String(e.text);
      if (text.startsWith("probe ")) {
        receivedByBob.set(text, (receivedByBob.get(text) ?? 0) + 1);
      }
    }
    return {
      sent: this.#sent,
      roundTripsMs: this.#rtts,
      p99Ms: percentile(this.#rtts, 99),
      receivedByBob,
    };
  }

  /** `await using`: stop talking and stop both clients. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#running = false;
    await this.#loop.catch(() => {});
    await this.alice.kill();
    await this.bob.kill();
  }
}

/** The bounds an attack must stay within (issue 13's "done when"). */
export interface HealthBounds {
  /** RSS growth at the peak, MiB (default 100). */
  peakGrowthMiB?: number;
  /** RSS growth once the attack ended, MiB (default 50). */
  afterGrowthMiB?: number;
  /** The normal client's send → ack p99, ms (default 200). */
  p99Ms?: number;
}

/**
 * Assert the server survived the attack well: still running, memory
 * bounded during and after, the normal client fast, every message of
 * alice's delivered to bob exactly once. Returns a one-line summary.
 */
export async function assertHealthy(
  server: ServerProcess,
  rss: RssSampler,
  report: ProbeReport,
  bounds: HealthBounds = {},
): Promise<string> {
  assert(await server.running(), `the server died:\n${server.log}`);
  const peak = await rss.stop();
  const after = await rss.growthNowMiB();
  const summary = `RSS +${peak.toFixed(1)} MiB at peak, +${
    after.toFixed(1)
  } MiB after; ${report.sent.length} probes, p99 ${report.p99Ms.toFixed(1)} ms`;
  assert(
    peak < (bounds.peakGrowthMiB ?? 100),
    `server RSS grew ${peak.toFixed(1)} MiB (${summary})`,
  );
  assert(
    after < (bounds.afterGrowthMiB ?? 50),
    `server RSS stayed ${after.toFixed(1)} MiB up (${summary})`,
  );
  assert(
    report.p99Ms < (bounds.p99Ms ?? 200),
    `the normal client's p99 was ${report.p99Ms.toFixed(1)} ms (${summary})`,
  );
  assert(report.sent.length > 0, "the normal client sent nothing");
  for (const text of report.sent) {
    assertEquals(report.receivedByBob.get(text), 1, `bob's copies of ${text}`);
  }
  return summary;
}
