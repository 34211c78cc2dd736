/**
 * Build `chat` as a single executable with `deno compile`, with the
 * permissions of scripts/permissions.ts baked in and nothing else.
 *
 *     deno task compile        dist/chat for this machine
 *     deno task compile:all    dist/chat-TARGET (…-pc-windows-msvc.exe) for
 *                              Linux x64/arm64, macOS x64/arm64, Windows x64
 *
 * `deno compile` needs its runtime base (denort) for each target. It
 * downloads it from Deno's release server, or takes it from `DENORT_BIN`
 * (which deno itself reads, for whatever target it builds, so it is passed
 * on only for the host target), or from its download cache
 * (`$DENO_DIR/dl/release/vVERSION/denort-TARGET.zip`). When it cannot get
 * one, this script says so in one line on stderr and exits 1. It exits 0
 * only when every binary asked for was written and, for the host target,
 * runs and prints the right `--version`.
 * @module
 */
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import { PERMISSION_FLAGS } from "./permissions.ts";
import { VERSION } from "../version.ts";

/** The targets `deno task compile:all` builds. */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/** The output of `deno task compile`, relative to the project directory. */
export const HOST_OUTPUT = Deno.build.os === "windows"
  ? "dist/chat.exe"
  : "dist/chat";

/** The output of `deno task compile:all` for `target`. */
export function targetOutput(target: string): string {
  return `dist/chat-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/** What `chat --version` prints when built from this source for `target`. */
export function expectedVersionLine(target: string): string {
  return `chat ${VERSION} (deno ${Deno.version.deno}, ${target})`;
}

/** The arguments of `deno compile` for one target. */
export function compileArgs(target: string, output: string): string[] {
  return [
    "compile",
    "--frozen",
    // Embed only the npm packages main.ts reaches (fast-check is for tests).
    // main.ts's dynamic imports have literal specifiers, so server/ and
    // client/ are in the graph and embedded without --include.
    "--exclude-unused-npm",
    "--target",
    target,
    "--output",
    output,
    ...PERMISSION_FLAGS,
    "main.ts",
  ];
}

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DENO_VERSION = Deno.version.deno;
const decoder = new TextDecoder();

type Build = { target: string; output: string; host: boolean };

/** Why a build failed, as the one line a person sees. */
const problems = {
  downloadFailed(target: string, task: string): string {
    return `deno compile could not download its runtime (denort) for ${target}; ` +
      `download denort for Deno ${DENO_VERSION} from the Deno releases on a connected machine ` +
      `and set DENORT_BIN=/path/to/denort, then run deno task ${task} again`;
  },
  foreignDownloadFailed(target: string, task: string, dir: string): string {
    return `deno compile could not download its runtime (denort) for ${target}; ` +
      `download denort-${target}.zip for Deno ${DENO_VERSION} from the Deno releases on a connected machine ` +
      `and put it in ${dir}, then run deno task ${task} again`;
  },
  denortBinMissing(path: string, target: string): string {
    return `DENORT_BIN is set to ${path}, but there is no file there; ` +
      `set DENORT_BIN to the denort of Deno ${DENO_VERSION} for ${target}, ` +
      `or unset it to let deno compile download it`;
  },
  denortBinUnreadable(path: string, target: string): string {
    return `deno compile cannot read DENORT_BIN=${path}; ` +
      `set DENORT_BIN to the denort of Deno ${DENO_VERSION} for ${target}`;
  },
  badArchive(target: string, task: string, zip: string): string {
    return `deno compile could not unpack its runtime (denort) for ${target} from ${zip}; ` +
      `delete that file and run deno task ${task} again`;
  },
  doesNotRun(
    target: string,
    output: string,
    printed: string,
    denortBin: string | undefined,
  ): string {
    return `${output} does not run as chat for ${target} ` +
      `(\`--version\` printed ${JSON.stringify(printed)}, ` +
      `expected ${JSON.stringify(expectedVersionLine(target))})` +
      (denortBin === undefined ? "" : `; DENORT_BIN=${denortBin} must be ` +
        `the denort of Deno ${DENO_VERSION} for ${target}`);
  },
};

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Where deno compile caches downloaded runtimes for this Deno version. */
async function runtimeCacheDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  let denoDir = "$DENO_DIR";
  try {
    denoDir = JSON.parse(decoder.decode(out.stdout)).denoDir ?? denoDir;
  } catch {
    // keep the placeholder
  }
  return join(denoDir, "dl", "release", `v${DENO_VERSION}`);
}

function environmentWithoutDenortBin(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.DENORT_BIN;
  return env;
}

/** Build one target; returns null on success or the one line saying why not. */
async function build(b: Build, task: string): Promise<string | null> {
  const given = Deno.env.get("DENORT_BIN");
  const denortBin = b.host && given !== undefined ? resolve(given) : undefined;
  if (denortBin !== undefined && !(await exists(denortBin))) {
    return problems.denortBinMissing(given!, b.target);
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(b.target, b.output),
    cwd: ROOT,
    // deno reads DENORT_BIN whatever the target: a foreign target must not
    // be built on the host's runtime, so it gets an environment without it.
    ...(denortBin !== undefined
      ? { env: { DENORT_BIN: denortBin } }
      : given !== undefined
      ? { clearEnv: true, env: environmentWithoutDenortBin() }
      : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const path = join(ROOT, b.output);
  if (out.success && await exists(path)) {
    return b.host ? await checkRuns(b, denortBin) : null;
  }
  await Deno.remove(path).catch(() => {});
  const stderr = decoder.decode(out.stderr);
  if (stderr.includes("Could not find denort at")) {
    return problems.denortBinUnreadable(given!, b.target);
  }
  if (stderr.includes("Setting up base binary")) {
    return b.host
      ? problems.downloadFailed(b.target, task)
      : problems.foreignDownloadFailed(b.target, task, await runtimeCacheDir());
  }
  if (stderr.includes("Failed to unpack archive")) {
    const zip = join(await runtimeCacheDir(), `denort-${b.target}.zip`);
    return problems.badArchive(b.target, task, zip);
  }
  // Not an expected condition (a type error, a stale lockfile): deno's own words.
  console.error(stderr.trimEnd());
  return `deno compile failed for ${b.target} (exit code ${out.code})`;
}

/** Run the new host binary once; a base that is not this Deno's denort fails here. */
async function checkRuns(
  b: Build,
  denortBin: string | undefined,
): Promise<string | null> {
  const path = join(ROOT, b.output);
  let printed: string;
  try {
    const out = await new Deno.Command(path, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    printed = (decoder.decode(out.stdout).trim() ||
      decoder.decode(out.stderr).trim()).split("\n")[0]!;
  } catch (error) {
    printed = (error as Error).message;
  }
  if (printed === expectedVersionLine(b.target)) return null;
  await Deno.remove(path).catch(() => {});
  return problems.doesNotRun(b.target, b.output, printed, denortBin);
}

async function main(args: string[]): Promise<number> {
  const task = args.includes("--all") ? "compile:all" : "compile";
  const builds: Build[] = task === "compile:all"
    ? TARGETS.map((target) => ({
      target,
      output: targetOutput(target),
      host: target === Deno.build.target,
    }))
    : [{ target: Deno.build.target, output: HOST_OUTPUT, host: true }];
  await Deno.mkdir(join(ROOT, "dist"), { recursive: true });
  let failed = 0;
  for (const b of builds) {
    // A stale binary must never pass for a fresh one.
    await Deno.remove(join(ROOT, b.output)).catch(() => {});
    const problem = await build(b, task);
    if (problem === null) {
      const { size } = await Deno.stat(join(ROOT, b.output));
      console.log(
        `chat: built ${b.output} (${b.target}, ${Math.round(size / 1e6)} MB)`,
      );
    } else {
      failed++;
      console.error(`chat: error: ${problem}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
