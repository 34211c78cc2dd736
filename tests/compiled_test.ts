/**
 * The compiled binary behaves like `deno run main.ts`: the core end-to-end
 * scenario (a server and two clients exchanging end-to-end messages, /save,
 * id, --help, --version) run with a copy of `dist/chat` outside the source
 * tree, and the permissions baked into it are exactly scripts/permissions.ts.
 *
 * The binary is built when this module loads (`deno task compile`). Where
 * deno compile cannot get its runtime (denort) — no network and no
 * DENORT_BIN — these tests are reported as ignored, with the reason in their
 * names; any other build failure fails them.
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { runCoreScenario } from "./_chat_command.ts";
import { tempDir } from "./_harness.ts";
import { ENV_VARIABLES } from "../scripts/permissions.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const EXE = Deno.build.os === "windows" ? ".exe" : "";
const BINARY = join(ROOT, `dist/chat${EXE}`);

type Build =
  | { built: true }
  | { built: false; runtimeUnavailable: boolean; output: string };

async function build(): Promise<Build> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.success) return { built: true };
  return {
    built: false,
    runtimeUnavailable: stderr.includes(
      "deno compile could not download its runtime (denort)",
    ),
    output: stderr,
  };
}

const result = await build();
const ignored = !result.built && result.runtimeUnavailable;
const because = ignored
  ? " (ignored: deno compile cannot download denort here; set DENORT_BIN)"
  : "";

function assertBuilt(): void {
  if (!result.built) {
    throw new Error(`deno task compile failed:\n${result.output}`);
  }
}

Deno.test({
  name:
    `the compiled binary, copied out of the source tree, runs the core end-to-end scenario${because}`,
  ignore: ignored,
  fn: async () => {
    assertBuilt();
    await using dir = await tempDir("chat-compiled-");
    const binary = join(dir.path, `chat${EXE}`);
    await Deno.copyFile(BINARY, binary);
    if (Deno.build.os !== "windows") await Deno.chmod(binary, 0o755);
    await runCoreScenario({ command: binary, args: [] });
  },
});

/** The permissions deno compile wrote into the binary's metadata (JSON). */
async function bakedPermissions(
  path: string,
): Promise<Record<string, unknown>> {
  const text = new TextDecoder("latin1").decode(await Deno.readFile(path));
  const start = text.lastIndexOf('"permissions":{');
  assert(start >= 0, "no permissions in the binary's metadata");
  const from = start + '"permissions":'.length;
  const end = text.indexOf("}", from);
  return JSON.parse(text.slice(from, end + 1));
}

Deno.test({
  name:
    `the compiled binary carries exactly the permissions of scripts/permissions.ts and never prompts${because}`,
  ignore: ignored,
  fn: async () => {
    assertBuilt();
    const p = await bakedPermissions(BINARY);
    assertEquals(p.prompt, false, "prompt");
    // An empty list is deno's way of writing "all" for net, read and write.
    assertEquals(p.allow_net, [], "allow_net");
    assertEquals(p.allow_read, [], "allow_read");
    assertEquals(p.allow_write, [], "allow_write");
    assertEquals(p.allow_env, [...ENV_VARIABLES], "allow_env");
    for (const absent of ["allow_run", "allow_ffi", "allow_sys"]) {
      assertEquals(p[absent], null, absent);
    }
  },
});
