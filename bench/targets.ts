/**
 * The issue-5 targets, judged met / not met / not measured from whatever a
 * run measured (the 500-member scenarios, a 10,000-connection idle run, the
 * crypto microbenchmarks).
 * @module
 */
import type { CryptoResult } from "./crypto_micro.ts";
import type { IdleEntry, LoadEntry, TargetCheck } from "./report.ts";
import { round } from "./stats.ts";

const f = (n: number | undefined, d = 1) =>
  n === undefined || Number.isNaN(n) ? "n/a" : String(round(n, d));

/** One target: "not measured" when there is no value, else judged by `ok`. */
function check(
  target: string,
  value: number | undefined,
  measured: string,
  ok: (v: number) => boolean,
): TargetCheck {
  const missing = value === undefined || Number.isNaN(value);
  return {
    target,
    measured: missing ? "not measured" : measured,
    met: missing ? null : ok(value),
  };
}

/** The 500-member targets: at 100 msgs/s, and as fast as possible. */
function loadTargets(loads: LoadEntry[]): TargetCheck[] {
  const fixed = loads.find((l) =>
    l.scenario.members === 500 && l.scenario.rate === 100
  );
  const asap = loads.find((l) =>
    l.scenario.members === 500 && l.scenario.rate === null
  );
  return [
    check(
      "500 members, 100 msgs/s: server CPU ≤ 30% of a core",
      fixed?.chat?.serverCpuPct,
      `${f(fixed?.chat?.serverCpuPct)}%`,
      (v) => v <= 30,
    ),
    check(
      "… and ≤ 1.2× the bare relay's CPU (same run)",
      fixed?.ratio?.serverCpuPct,
      `${f(fixed?.ratio?.serverCpuPct, 2)}× (relay ${
        f(fixed?.relay?.serverCpuPct)
      }%)`,
      (v) => v <= 1.2,
    ),
    check(
      "… p99 delivery ≤ 10 ms",
      fixed?.chat?.latencyMs.p99,
      `${f(fixed?.chat?.latencyMs.p99, 2)} ms`,
      (v) => v <= 10,
    ),
    check(
      "saturation, 500 members: delivered/s ≥ 0.5× the relay's",
      asap?.ratio?.deliveredPerSec,
      `${f(asap?.ratio?.deliveredPerSec, 2)}× (${
        f(asap?.chat?.deliveredPerSec, 0)
      } vs ${f(asap?.relay?.deliveredPerSec, 0)}/s)`,
      (v) => v >= 0.5,
    ),
    check(
      "… p99 ≤ 250 ms",
      asap?.chat?.latencyMs.p99,
      `${f(asap?.chat?.latencyMs.p99, 1)} ms`,
      (v) => v <= 250,
    ),
    check(
      "… zero loss",
      asap?.chat?.loss,
      `${f(asap?.chat?.loss, 0)} lost of ${f(asap?.chat?.expected, 0)}`,
      (v) => v === 0,
    ),
  ];
}

/** The 10,000-connection targets: held, memory, login rates. */
function idleTargets(idle: IdleEntry[]): TargetCheck[] {
  const big = idle.find((i) => i.scenario.connections >= 10_000);
  return [
    check(
      "10,000 concurrent logged-in TLS clients",
      big?.chat?.connections,
      `${f(big?.chat?.connections, 0)} held, ${f(big?.chat?.failed, 0)} failed`,
      (v) => v >= 10_000 && big?.chat?.failed === 0,
    ),
    check(
      "≤ 40 KB RSS per idle logged-in connection",
      big?.chat?.rssIdlePerConnectionKiB,
      `${
        f(big?.chat?.rssIdlePerConnectionKiB)
      } kB after ${big?.scenario.settleSeconds} s idle, ${
        f(big?.chat?.rssPerConnectionKiB)
      } right after the logins (relay ${
        f(big?.relay?.rssIdlePerConnectionKiB)
      })`,
      (v) => v <= 40,
    ),
    check(
      "≥ 1,000 logins/s (returning users)",
      big?.chat?.loginsPerSec,
      `${f(big?.chat?.loginsPerSec, 0)}/s (relay TLS ${
        f(big?.relay?.loginsPerSec, 0)
      }/s)`,
      (v) => v >= 1000,
    ),
    check(
      "≥ 1,000 logins/s (first login: registers the name)",
      big?.chat?.firstLoginsPerSec,
      `${f(big?.chat?.firstLoginsPerSec, 0)}/s`,
      (v) => v >= 1000,
    ),
  ];
}

/** The client's crypto costs. */
function cryptoTargets(crypto: CryptoResult | null): TargetCheck[] {
  return [
    check(
      "client ≤ 0.3 ms CPU per message sent",
      crypto?.sendCpuMs,
      `${f(crypto?.sendCpuMs, 3)} ms`,
      (v) => v <= 0.3,
    ),
    check(
      "client ≤ 0.3 ms CPU per message received",
      crypto?.receiveCpuMs,
      `${f(crypto?.receiveCpuMs, 3)} ms`,
      (v) => v <= 0.3,
    ),
    check(
      "sender-key rotation for 1,000 members ≤ 600 ms",
      crypto?.rotationMs["1000"],
      `${f(crypto?.rotationMs["1000"], 0)} ms`,
      (v) => v <= 600,
    ),
  ];
}

/** Judge the issue-5 targets from whatever this run measured. */
export function judgeTargets(
  loads: LoadEntry[],
  idle: IdleEntry[],
  crypto: CryptoResult | null,
): TargetCheck[] {
  return [
    ...loadTargets(loads),
    ...idleTargets(idle),
    ...cryptoTargets(crypto),
  ];
}
