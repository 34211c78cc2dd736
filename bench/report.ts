/**
 * The report: results with ratios to the bare relay, the issue-5 targets
 * judged met / not met / not measured, and markdown tables for stdout.
 * @module
 */
import type { CryptoResult } from "./crypto_micro.ts";
import type { ProfileSummary } from "./cpu_profile.ts";
import type { IdleResult, IdleScenario } from "./idle_scenario.ts";
import type { LoadResult, LoadScenario } from "./load_scenario.ts";
import { round } from "./stats.ts";

/** One load scenario's results on both targets. */
export interface LoadEntry {
  scenario: LoadScenario;
  chat: LoadResult | null;
  relay: LoadResult | null;
  /** chat ÷ relay for each number that has a relay counterpart. */
  ratio: Record<string, number> | null;
}

/** One idle scenario's results on both targets. */
export interface IdleEntry {
  scenario: IdleScenario;
  chat: IdleResult | null;
  relay: IdleResult | null;
  ratio: Record<string, number> | null;
}

/** One issue-5 target. */
export interface TargetCheck {
  target: string;
  measured: string;
  /** true met, false not met, null not measured in this run. */
  met: boolean | null;
}

/** The whole run. */
export interface BenchReport {
  format: "chat-bench-v1";
  startedAt: string;
  seconds: number;
  machine: {
    cpus: number;
    deno: string;
    v8: string;
    kernel: string;
    /** Machine CPU (% of one core) used by other work in the second before the run. */
    backgroundCpuPct: number;
  };
  args: string[];
  /** The commit measured; dirty when server/, shared/, client/ or main.ts had changes. */
  source: { commit: string; dirty: boolean };
  quick: boolean;
  /** The relay's TLS stack: bench/bare_relay.ts (deno) or bench/bare_relay_node.ts (node). */
  baseline: "deno" | "node";
  loads: LoadEntry[];
  idle: IdleEntry[];
  crypto: CryptoResult | null;
  targets: TargetCheck[];
  profiles: ProfileSummary[];
  /** Scenarios that could not be run to the end, and why. */
  failures: string[];
}

const div = (a: number, b: number) => (b === 0 ? NaN : a / b);

/** chat ÷ relay of the numbers the issue compares. */
export function loadRatio(chat: LoadResult, relay: LoadResult) {
  return {
    deliveredPerSec: div(chat.deliveredPerSec, relay.deliveredPerSec),
    latencyP50: div(chat.latencyMs.p50, relay.latencyMs.p50),
    latencyP99: div(chat.latencyMs.p99, relay.latencyMs.p99),
    latencyMax: div(chat.latencyMs.max, relay.latencyMs.max),
    serverCpuPct: div(chat.serverCpuPct, relay.serverCpuPct),
    serverRssKiB: div(chat.serverRssKiB, relay.serverRssKiB),
  };
}

/** chat ÷ relay for idle capacity. */
export function idleRatio(chat: IdleResult, relay: IdleResult) {
  return {
    rssPerConnectionKiB: div(
      chat.rssPerConnectionKiB,
      relay.rssPerConnectionKiB,
    ),
    rssIdlePerConnectionKiB: div(
      chat.rssIdlePerConnectionKiB,
      relay.rssIdlePerConnectionKiB,
    ),
    loginsPerSec: div(chat.loginsPerSec, relay.loginsPerSec),
    firstLoginsPerSec: div(chat.firstLoginsPerSec, relay.firstLoginsPerSec),
  };
}

const f = (n: number | undefined, d = 1) =>
  n === undefined || Number.isNaN(n) ? "n/a" : String(round(n, d));

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    line(head),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...rows.map(line),
  ].join("\n");
}

/** One table row: its name, the number of a result, the chat ÷ relay ratio, decimals. */
type Row<R> = [string, (r: R) => number, number | undefined, number];

/** The chat | relay | chat/relay table of `rows` ("-" for a target not run). */
function comparison<R>(rows: Row<R>[], chat: R | null, relay: R | null) {
  return table(
    ["", "chat", "relay", "chat/relay"],
    rows.map(([name, get, ratio, d]) => [
      name,
      chat ? f(get(chat), d) : "-",
      relay ? f(get(relay), d) : "-",
      ratio === undefined ? "" : f(ratio, 2),
    ]),
  );
}

function loadTable(e: LoadEntry): string {
  const s = e.scenario;
  const rows: Row<LoadResult>[] = [
    ["delivered msgs/s", (r) => r.deliveredPerSec, e.ratio?.deliveredPerSec, 0],
    ["sent msgs/s", (r) => r.sentPerSec, undefined, 1],
    ["latency p50 ms", (r) => r.latencyMs.p50, e.ratio?.latencyP50, 2],
    ["latency p99 ms", (r) => r.latencyMs.p99, e.ratio?.latencyP99, 2],
    ["latency max ms", (r) => r.latencyMs.max, e.ratio?.latencyMax, 2],
    ["errors", (r) => r.errors, undefined, 0],
    ["loss (expected − counted)", (r) => r.loss, undefined, 0],
    ["server CPU % of a core", (r) => r.serverCpuPct, e.ratio?.serverCpuPct, 1],
    ["… of which kernel (syscalls)", (r) => r.serverSysCpuPct, undefined, 1],
    ["server RSS kB", (r) => r.serverRssKiB, e.ratio?.serverRssKiB, 0],
    [
      "generator CPU % (max worker)",
      (r) => Math.max(...r.generatorCpuPct),
      undefined,
      0,
    ],
    ["machine CPU % (of 200)", (r) => r.machineCpuPct, undefined, 0],
    ["other processes CPU %", (r) => r.otherCpuPct, undefined, 0],
    ["hypervisor steal % (other guests)", (r) => r.stealPct, undefined, 1],
    ["setup s (logins + joins)", (r) => r.setupSec, undefined, 1],
  ];
  const title = `### ${s.name}: ${s.members} members, ${s.senders} senders, ${
    s.rate === null
      ? `as fast as possible (window ${s.window})`
      : `${s.rate} msgs/s offered${s.inPhase ? " in phase" : ""}`
  }, ${
    s.durationMs / 1000
  } s, ${s.payloadBytes}-byte payload, ${s.workers} workers`;
  const body = comparison(rows, e.chat, e.relay);
  const limits = [e.chat, e.relay].filter((r) => r !== null).map((r) =>
    `${r!.target} limited by: ${r!.limitedBy}`
  ).join("; ");
  return `${title}\n\n${body}\n\n${limits}`;
}

function idleTable(e: IdleEntry): string {
  const rows: Row<IdleResult>[] = [
    ["connections held", (r) => r.connections, undefined, 0],
    ["failed", (r) => r.failed, undefined, 0],
    [
      "logins/s (returning; relay: TLS)",
      (r) => r.loginsPerSec,
      e.ratio?.loginsPerSec,
      0,
    ],
    [
      "logins/s (first; chat registers)",
      (r) => r.firstLoginsPerSec,
      e.ratio?.firstLoginsPerSec,
      0,
    ],
    ["server CPU % during logins", (r) => r.serverCpuPctAtLogin, undefined, 0],
    [
      "generator CPU % (max worker)",
      (r) => Math.max(...r.generatorCpuPct),
      undefined,
      0,
    ],
    ["other processes CPU %", (r) => r.otherCpuPct, undefined, 0],
    ["RSS kB before", (r) => r.rssBeforeKiB, undefined, 0],
    [
      "RSS kB holding all, right after the logins",
      (r) => r.rssAfterKiB,
      undefined,
      0,
    ],
    [
      "RSS kB per connection, right after the logins",
      (r) => r.rssPerConnectionKiB,
      e.ratio?.rssPerConnectionKiB,
      1,
    ],
    [
      `RSS kB holding all, ${e.scenario.settleSeconds} s idle later`,
      (r) => r.rssIdleKiB,
      undefined,
      0,
    ],
    [
      `RSS kB per connection, ${e.scenario.settleSeconds} s idle later`,
      (r) => r.rssIdlePerConnectionKiB,
      e.ratio?.rssIdlePerConnectionKiB,
      1,
    ],
    [
      "JS heap kB per connection (--profile)",
      (r) => r.jsHeapPerConnectionKiB,
      undefined,
      1,
    ],
  ];
  const shown = rows.filter(([, get]) =>
    [e.chat, e.relay].some((r) => r !== null && !Number.isNaN(get(r)))
  );
  return `### idle: ${e.scenario.connections} connections, ${e.scenario.workers} workers\n\n${
    comparison(shown, e.chat, e.relay)
  }`;
}

function cryptoTable(c: CryptoResult): string {
  const rows = [
    [
      "send one message (seal + sign + encode)",
      f(c.sendMs, 3),
      f(c.sendCpuMs, 3),
    ],
    [
      "receive one message (decode + verify + decrypt)",
      f(c.receiveMs, 3),
      f(c.receiveCpuMs, 3),
    ],
    ["unwrap a sender key (verify + RSA-OAEP)", f(c.unwrapMs, 2), ""],
    ...Object.keys(c.rotationMs).map((n) => [
      `rotate the sender key, ${n} members`,
      f(c.rotationMs[n], 1),
      f(c.rotationCpuMs[n], 1),
    ]),
  ];
  return `### client crypto (in process, ms)\n\n${
    table(["", "wall ms", "CPU ms"], rows)
  }`;
}

/** The whole report as markdown tables. */
export function renderReport(r: BenchReport): string {
  const parts = [
    `## chat bench ${r.startedAt}, commit ${r.source.commit}${
      r.source.dirty ? " + uncommitted changes" : ""
    } (${r.machine.cpus} CPUs, deno ${r.machine.deno}, ${
      round(r.seconds, 0)
    } s; baseline: ${
      r.baseline === "deno" ? "Deno.listenTls" : "node:tls"
    } relay; other work on the machine before the run: ${
      f(r.machine.backgroundCpuPct, 0)
    }% CPU)`,
    ...r.loads.map(loadTable),
    ...r.idle.map(idleTable),
    ...(r.crypto ? [cryptoTable(r.crypto)] : []),
    `### issue-5 targets\n\n${
      table(
        ["target", "measured", "met"],
        r.targets.map((t) => [
          t.target,
          t.measured,
          t.met === null ? "not measured" : t.met ? "met" : "NOT met",
        ]),
      )
    }`,
    ...(r.failures.length
      ? [
        `### failures\n\n${
          r.failures.map((f) => `- ${f.split("\n")[0]!.slice(0, 600)}`).join(
            "\n",
          )
        }`,
      ]
      : []),
    ...r.profiles.map((p) =>
      `### server CPU profile ${p.name} (self time, ${p.file})\n\n${
        table(["function", "self %"], p.top.map((h) => [h.fn, f(h.selfPct)]))
      }`
    ),
  ];
  return parts.join("\n\n") + "\n";
}
