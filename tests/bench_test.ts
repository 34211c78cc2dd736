/**
 * `deno task bench --quick` end to end: a real server, the bare relay,
 * worker processes with real logged-in users over TLS, and the crypto
 * microbenchmarks. Asserts that the JSON report is complete and that no
 * message was lost or refused — never how fast anything was.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { tempDir } from "./_harness.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Run the quick bench writing JSON to `jsonPath`; kill it after 5 minutes. */
async function runQuickBench(jsonPath: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "bench", "--quick", "--json", jsonPath],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
  try {
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The value at a dotted path, e.g. "latencyMs.p99". */
function at(value: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>(
    (v, key) => (v as Record<string, unknown> | null)?.[key],
    value,
  );
}

function assertNumbers(where: string, value: unknown, paths: string[]) {
  for (const path of paths) {
    const v = at(value, path);
    assert(
      typeof v === "number" && Number.isFinite(v),
      `${where}.${path} should be a number, got ${JSON.stringify(v)}`,
    );
  }
}

const LOAD_FIELDS = [
  "deliveredPerSec",
  "sentPerSec",
  "latencyMs.p50",
  "latencyMs.p99",
  "latencyMs.max",
  "latencyMs.samples",
  "errors",
  "loss",
  "expected",
  "delivered",
  "serverCpuPct",
  "serverRssKiB",
  "machineCpuPct",
];
const LOAD_RATIOS = [
  "deliveredPerSec",
  "latencyP50",
  "latencyP99",
  "latencyMax",
  "serverCpuPct",
  "serverRssKiB",
];
const IDLE_FIELDS = [
  "connections",
  "failed",
  "loginsPerSec",
  "firstLoginsPerSec",
  "rssBeforeKiB",
  "rssAfterKiB",
  "rssPerConnectionKiB",
  "rssIdleKiB",
  "rssIdlePerConnectionKiB",
];
const CRYPTO_FIELDS = [
  "sendMs",
  "sendCpuMs",
  "receiveMs",
  "receiveCpuMs",
  "unwrapMs",
  "rotationMs.10",
  "rotationMs.100",
  "rotationMs.1000",
  "rotationCpuMs.1000",
];

Deno.test("bench --quick reports every measure for the server and the relay, and loses no message", async () => {
  await using dir = await tempDir("chat-bench-test-");
  const jsonPath = join(dir.path, "bench.json");
  const run = await runQuickBench(jsonPath);
  assertEquals(run.code, 0, `bench failed:\n${run.stderr}\n${run.stdout}`);
  assert(run.stdout.includes("issue-5 targets"), run.stdout);
  const report = JSON.parse(await Deno.readTextFile(jsonPath));
  assertEquals(report.format, "chat-bench-v1");
  assertEquals(report.quick, true);

  assertEquals(report.loads.length, 1);
  const load = report.loads[0];
  for (const target of ["chat", "relay"]) {
    const r = load[target];
    assertNumbers(`loads[0].${target}`, r, LOAD_FIELDS);
    assert(r.expected > 0, `${target}: nothing was expected`);
    assertEquals(r.loss, 0, `${target} lost messages`);
    assertEquals(r.delivered, r.expected, `${target} delivered`);
    assertEquals(r.errors, 0, `${target} errors: ${r.errorSamples}`);
    assertEquals(r.disconnects, 0, `${target} disconnects`);
    assert(r.latencyMs.samples > 0, `${target}: no latency samples`);
  }
  assert(load.chat.pongs > 0, "members did not answer the server's pings");
  assertNumbers("loads[0].ratio", load.ratio, LOAD_RATIOS);

  assertEquals(report.idle.length, 1);
  const idle = report.idle[0];
  for (const target of ["chat", "relay"]) {
    assertNumbers(`idle[0].${target}`, idle[target], IDLE_FIELDS);
    assertEquals(idle[target].connections, idle.scenario.connections);
    assertEquals(idle[target].failed, 0, idle[target].firstError);
  }
  assertNumbers("idle[0].ratio", idle.ratio, [
    "rssPerConnectionKiB",
    "rssIdlePerConnectionKiB",
    "loginsPerSec",
  ]);

  assertNumbers("crypto", report.crypto, CRYPTO_FIELDS);
  assert(report.targets.length >= 13, "every issue-5 target is listed");
  for (const t of report.targets) {
    assert(
      t.met === true || t.met === false || t.met === null,
      `target "${t.target}" has no verdict`,
    );
  }
});
