/**
 * The bench's command line: which scenarios to run, against which
 * targets, how the generator is spread, and where the JSON goes.
 * @module
 */
import { parseArgs } from "node:util";
import type { CryptoPlan } from "./crypto_micro.ts";
import type { IdleScenario } from "./idle_scenario.ts";
import type { LoadScenario } from "./load_scenario.ts";
import { MIN_PAYLOAD_BYTES } from "./payload.ts";

/** Everything one run does. */
export interface BenchPlan {
  quick: boolean;
  loads: LoadScenario[];
  idle: IdleScenario[];
  crypto: CryptoPlan | null;
  targets: ("chat" | "relay")[];
  baseline: "deno" | "node";
  jsonPath: string | null;
  profile: boolean;
  /** Extra `chat serve` flags. */
  serverArgs: string[];
}

export const USAGE = `deno task bench [options]

Scenarios (default: the issue-5 suite: 500 members at 100 msgs/s, 500 members
--asap, 10,000 idle connections, crypto microbenchmarks):
  --quick              small suite for tests (< 2 min): 10 members, 2 senders,
                       20 msgs/s for 3 s; 100 idle; small crypto run
  --members N          one load scenario with N members in one room
  --senders N          members that send (default 10, at most members - workers)
  --observers N        members that decrypt and time every message (default 4;
                       2 with --asap, where their decryption would load the generator)
  --rate N             total offered messages/s (default 100)
  --asap               as fast as possible instead (window per sender: --window)
  --in-phase           senders send at the same instants (bursts of --senders
                       messages) instead of evenly spread over each interval
  --window N           --asap: messages a sender may have in flight (default 4)
  --duration S         measured seconds (default 10)
  --payload BYTES      message text size (default 64)
  --idle N             hold N logged-in connections (RSS/connection, logins/s)
  --no-crypto          skip the crypto microbenchmarks
  --crypto-only        only the crypto microbenchmarks
Generator and targets:
  --workers K          worker processes for the simulated clients (default 2)
  --no-baseline        skip the bare relay (chat server only)
  --baseline deno|node the relay's TLS stack: Deno.listenTls (default,
                       bench/bare_relay.ts) or node:tls with Nagle off
                       (bench/bare_relay_node.ts, the stack the server uses)
  --relay-only         only the bare relay
  --idle-ping DURATION passed to chat serve (default: its own, 30s)
  --profile            CPU-profile the chat server over each measured window
Output:
  --json FILE          write the full report as JSON
  --help`;

function int(
  v: string | undefined,
  name: string,
  fallback: number,
  min = 1,
): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new RangeError(`--${name} must be a whole number ≥ ${min}`);
  }
  return n;
}

const OPTIONS = {
  quick: { type: "boolean" },
  members: { type: "string" },
  senders: { type: "string" },
  observers: { type: "string" },
  rate: { type: "string" },
  asap: { type: "boolean" },
  "in-phase": { type: "boolean" },
  window: { type: "string" },
  duration: { type: "string" },
  payload: { type: "string" },
  idle: { type: "string" },
  "no-crypto": { type: "boolean" },
  "crypto-only": { type: "boolean" },
  workers: { type: "string" },
  "no-baseline": { type: "boolean" },
  baseline: { type: "string" },
  "relay-only": { type: "boolean" },
  "idle-ping": { type: "string" },
  profile: { type: "boolean" },
  json: { type: "string" },
  help: { type: "boolean" },
} as const;

function readValues(args: string[]) {
  return parseArgs({ args, options: OPTIONS }).values;
}

/** The flags as parseArgs read them. */
type Values = ReturnType<typeof readValues>;

/** What every scenario of one run shares. */
interface Common {
  v: Values;
  workers: number;
  payloadBytes: number;
  window: number;
  durationMs: number;
}

function common(v: Values): Common {
  return {
    v,
    workers: int(v.workers, "workers", 2),
    payloadBytes: int(v.payload, "payload", 64, MIN_PAYLOAD_BYTES),
    window: int(v.window, "window", 4),
    durationMs: int(v.duration, "duration", v.quick ? 3 : 10) * 1000,
  };
}

/** A load scenario; --senders and --observers override the defaults given. */
function load(
  c: Common,
  name: string,
  members: number,
  rate: number | null,
  senders = 10,
): LoadScenario {
  const { v, workers } = c;
  // every worker keeps one member that is not a sender (its pacer)
  const s = Math.max(
    1,
    Math.min(int(v.senders, "senders", senders), members - workers),
  );
  return {
    name,
    members,
    senders: s,
    observers: Math.min(
      int(v.observers, "observers", rate === null ? 2 : 4),
      members - s,
    ),
    rate,
    durationMs: c.durationMs,
    payloadBytes: c.payloadBytes,
    workers,
    window: c.window,
    inPhase: v["in-phase"] === true,
  };
}

function idleOf(c: Common, connections: number, settleSeconds = 40) {
  return { connections, workers: c.workers, concurrency: 128, settleSeconds };
}

/** The scenarios to run: the quick suite, the full one, or those named by flags. */
function scenarios(c: Common) {
  const { v, payloadBytes } = c;
  const rate = v.asap ? null : int(v.rate, "rate", 100);
  let loads: LoadScenario[] = [];
  let idle: IdleScenario[] = [];
  let crypto: CryptoPlan | null = {
    messages: 2000,
    payloadBytes,
    rotationSizes: [10, 100, 1000],
    rotationRepeats: 5,
  };
  if (v.quick) {
    loads = [load(c, "quick-10", 10, int(v.rate, "rate", 20), 2)];
    idle = [idleOf(c, 100, 2)];
    crypto = { ...crypto, messages: 200, rotationRepeats: 1 };
  } else if (
    v.members === undefined && v.idle === undefined && !v["crypto-only"]
  ) {
    loads = [load(c, "500-rate100", 500, 100), load(c, "500-asap", 500, null)];
    idle = [idleOf(c, 10_000)];
  }
  if (v.members !== undefined) {
    const members = int(v.members, "members", 0, 2);
    const kind = rate === null ? "asap" : `rate${rate}`;
    const phase = v["in-phase"] ? "-in-phase" : "";
    loads.push(load(c, `${members}-${kind}${phase}`, members, rate));
  }
  if (v.idle !== undefined) idle.push(idleOf(c, int(v.idle, "idle", 0, 1)));
  if (v["no-crypto"]) crypto = null;
  return { loads, idle, crypto };
}

/** Parse argv into a plan; throws RangeError on bad usage. */
export function parseBenchArgs(args: string[]): BenchPlan | "help" {
  const v = readValues(args);
  if (v.help) return "help";
  const plan = scenarios(common(v));
  const baseline = v.baseline ?? "deno";
  if (baseline !== "deno" && baseline !== "node") {
    throw new RangeError("--baseline must be deno or node");
  }
  const targets: ("chat" | "relay")[] = v["relay-only"]
    ? ["relay"]
    : v["no-baseline"]
    ? ["chat"]
    : ["chat", "relay"];
  const serverArgs = v["idle-ping"]
    ? ["--idle-ping", v["idle-ping"]]
    : v.quick
    ? ["--idle-ping", "1s", "--idle-timeout", "30s"]
    : [];
  return {
    quick: v.quick === true,
    ...plan,
    targets,
    baseline,
    jsonPath: v.json ?? null,
    profile: v.profile === true,
    serverArgs,
  };
}
