/**
 * `deno task compile` builds nothing fake: either a `dist/chat` that runs and
 * prints the right `--version`, or one documented line and no `dist/chat`.
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import { compileArgs } from "./compile.ts";
import { PERMISSION_FLAGS } from "./permissions.ts";
import { VERSION } from "../version.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BINARY = join(
  ROOT,
  Deno.build.os === "windows" ? "dist/chat.exe" : "dist/chat",
);
const TARGET = Deno.build.target;
const DENO = Deno.version.deno;
const decoder = new TextDecoder();

/** The line `deno task compile` prints when it cannot get denort. */
const DOWNLOAD_FAILED =
  `chat: error: deno compile could not download its runtime (denort) for ${TARGET}; ` +
  `download denort for Deno ${DENO} from the Deno releases on a connected machine ` +
  `and set DENORT_BIN=/path/to/denort, then run deno task compile again`;

/** Run `deno task NAME`; stderr without deno task's own "Task …" echo line. */
async function task(name: string, env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", name],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = (bytes: Uint8Array) =>
    decoder.decode(bytes).split("\n").filter((l) => l.trim() !== "");
  return {
    code: out.code,
    stdout: lines(out.stdout),
    stderr: lines(out.stderr).filter((l) => !/^Task compile\b/.test(l)),
  };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("the compile tasks and deno compile's arguments carry exactly the permission list, never -A", async () => {
  const { tasks } = JSON.parse(
    await Deno.readTextFile(join(ROOT, "deno.json")),
  );
  for (const name of ["compile", "compile:all"]) {
    const line: string = tasks[name];
    assertIncludes(line, "scripts/compile.ts");
    assert(!/(^|\s)-A(\s|$)|--allow-all/.test(line), `${name}: ${line}`);
  }
  // the serve and join tasks run with exactly the same permissions
  for (const name of ["serve", "join"]) {
    const line: string = tasks[name];
    const flags = line.split(/\s+/).filter((a) =>
      /^--(allow|deny|no-prompt)|^-[A-Z]$/.test(a)
    );
    assertEquals(flags, [...PERMISSION_FLAGS], `${name}: ${line}`);
  }
  const args = compileArgs(TARGET, "dist/chat");
  for (const flag of PERMISSION_FLAGS) {
    assertEquals(args.filter((a) => a === flag).length, 1, flag);
  }
  const permissionArgs = args.filter((a) =>
    /^--(allow|deny|no-prompt)|^-[A-Z]$/.test(a)
  );
  assertEquals(permissionArgs, [...PERMISSION_FLAGS]);
});

Deno.test("deno task compile with DENORT_BIN set to a missing file says so in one line and builds nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat-compile-" });
  try {
    const missing = join(dir, "no-such-denort");
    const r = await task("compile", { DENORT_BIN: missing });
    assertEquals(r.code, 1, r.stderr.join("\n"));
    assertEquals(r.stderr, [
      `chat: error: DENORT_BIN is set to ${missing}, but there is no file there; ` +
      `set DENORT_BIN to the denort of Deno ${DENO} for ${TARGET}, ` +
      `or unset it to let deno compile download it`,
    ]);
    assert(!(await exists(BINARY)), "no dist/chat after a failed build");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task compile builds a dist/chat that prints the right --version, or says in one line how to supply denort", async () => {
  const r = await task("compile");
  if (r.code === 0) {
    const info = await Deno.stat(BINARY);
    assert(info.isFile && info.size > 0, "dist/chat is a file");
    if (Deno.build.os !== "windows") {
      assert(((info.mode ?? 0) & 0o111) !== 0, "dist/chat is executable");
    }
    assertEquals(r.stderr, []);
    const version = await new Deno.Command(BINARY, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(version.code, 0);
    assertEquals(
      decoder.decode(version.stdout).trim(),
      `chat ${VERSION} (deno ${DENO}, ${TARGET})`,
    );
  } else {
    assertEquals(r.code, 1, r.stderr.join("\n"));
    assertEquals(r.stderr, [DOWNLOAD_FAILED]);
    assertEquals(r.stdout, []);
    assert(!(await exists(BINARY)), "no dist/chat after a failed build");
  }
});

Deno.test("docs/operations.md documents the line printed when denort cannot be downloaded", async () => {
  const doc = await Deno.readTextFile(join(ROOT, "docs", "operations.md"));
  assertIncludes(
    doc.replace(/\s*\n\s*/g, " "),
    DOWNLOAD_FAILED.replace(TARGET, "TARGET"),
  );
});
