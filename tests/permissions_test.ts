/**
 * The program needs no permission outside scripts/permissions.ts: it is run
 * here with exactly those flags, nothing added, and a clean environment
 * (DENO_DIR only, so deno finds its cache), through the core scenario and
 * the key-directory fallbacks. And the list grants nothing the program does
 * not use, and every deno task that runs `chat` uses exactly this list.
 */
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import {
  type ChatLauncher,
  runCoreScenario,
  runOnce,
} from "./_chat_command.ts";
import { ENV_VARIABLES, PERMISSION_FLAGS } from "../scripts/permissions.ts";
import { tempDir } from "./_harness.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

/** The deno tasks that run `chat`: task name → the chat command it runs. */
const CHAT_TASKS: Record<string, string> = {
  chat: "",
  serve: " serve",
  join: " join",
  id: " id",
  invite: " invite",
  servers: " servers",
};

async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
}

const restricted: ChatLauncher = {
  command: Deno.execPath(),
  args: ["run", ...PERMISSION_FLAGS, MAIN],
  env: { DENO_DIR: await denoDir() },
};

Deno.test("the permission list grants no run, ffi, sys, import or all, and names every env variable", () => {
  const forbidden =
    /^(-A|--allow-all|--allow-run|--allow-ffi|--allow-sys|--allow-import|-[A-Z]$)/;
  for (const flag of PERMISSION_FLAGS) {
    assert(!forbidden.test(flag), `${flag} must not be granted`);
  }
  assertEquals(
    [...PERMISSION_FLAGS].sort(),
    [
      "--allow-env=XDG_CONFIG_HOME,HOME,USERPROFILE,NO_COLOR",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--no-prompt",
    ].sort(),
  );
  const env = PERMISSION_FLAGS.filter((f) => f.startsWith("--allow-env"));
  assertEquals(env, [`--allow-env=${ENV_VARIABLES.join(",")}`]);
  assert(ENV_VARIABLES.length > 0, "--allow-env must be a list, not blanket");
});

Deno.test("every subcommand has a deno task, and each runs main.ts with exactly the permission list", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const tasks = config.tasks as Record<string, string>;
  for (const [task, command] of Object.entries(CHAT_TASKS)) {
    assertEquals(
      tasks[task],
      `deno run ${PERMISSION_FLAGS.join(" ")} main.ts${command}`,
      `task ${task}`,
    );
  }
});

Deno.test("deno task chat passes its arguments on, and deno task invite, id, servers, join and serve exist", async () => {
  const run = async (args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return {
      code: out.code,
      stdout: text(out.stdout),
      stderr: text(out.stderr),
    };
  };
  for (const [task, command] of Object.entries(CHAT_TASKS)) {
    const args = task === "chat"
      ? ["chat", "invite", "--help"]
      : [task, "--help"];
    const r = await run(args);
    assertEquals(r.code, 0, `deno task ${args.join(" ")}: ${r.stderr}`);
    const expected = task === "chat"
      ? "Usage: chat invite"
      : `Usage: chat${command}`;
    assert(
      r.stdout.startsWith(expected),
      `deno task ${args.join(" ")}:\n${r.stdout}`,
    );
  }
});

Deno.test("with exactly the permission list, serve, two clients, a message each way, /save, id, invite, servers, --help and --version work", async () => {
  await runCoreScenario(restricted);
});

Deno.test("with exactly the permission list, the key directory falls back to HOME, then USERPROFILE", async () => {
  await using temp = await tempDir("chat-perm-");
  const dir = temp.path;
  for (const variable of ["HOME", "USERPROFILE"]) {
    const home = join(dir, variable);
    const r = await runOnce(restricted, ["id", "--user", "uma", "--create"], {
      cwd: dir,
      env: { [variable]: home },
    });
    assertEquals(r.code, 0, r.stderr);
    assertIncludes(r.stderr, "created keys for uma");
    await Deno.stat(join(home, ".config", "chat", "keys", "uma.json"));
  }
});

Deno.test("with exactly the permission list, subprocesses, other env variables, system info and FFI are refused without a prompt", async () => {
  await using temp = await tempDir("chat-perm-");
  const dir = temp.path;
  const probe = join(dir, "probe.ts");
  await Deno.writeTextFile(
    probe,
    `const tries: Record<string, () => unknown> = {
  run: () => new Deno.Command("true").outputSync(),
  env: () => Deno.env.get("PATH"),
  envAll: () => Deno.env.toObject(),
  sys: () => Deno.hostname(),
  ffi: () => Deno.dlopen("libc.so.6", {}),
};
for (const [name, attempt] of Object.entries(tries)) {
  try {
    attempt();
    console.log(name, "allowed");
  } catch (error) {
    console.log(name, (error as Error).name);
  }
}
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", ...PERMISSION_FLAGS, probe],
    env: { PATH: "/usr/bin:/bin" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertEquals(stdout.trim().split("\n"), [
    "run NotCapable",
    "env NotCapable",
    "envAll NotCapable",
    "sys NotCapable",
    "ffi NotCapable",
  ]);
});
