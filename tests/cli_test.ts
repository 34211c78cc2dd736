/**
 * The command line: help, version, usage errors and exit codes.
 */
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import { runChat, tempDir } from "./_harness.ts";
import { VERSION } from "../version.ts";
import { SERVE_OPTIONS } from "../server/serve_command.ts";
import { INVITE_OPTIONS } from "../server/invite_command.ts";
import { ID_OPTIONS, JOIN_OPTIONS } from "../client/join_command.ts";

Deno.test("chat --help prints usage to stdout and exits 0", async () => {
  const r = await runChat(["--help"]);
  assertEquals(r.code, 0);
  assertEquals(r.stderr, "");
  for (const part of ["chat serve", "chat join", "chat id", "--user", "--ca"]) {
    assertIncludes(r.stdout, part);
  }
});

Deno.test("chat --version prints the version, the Deno version and the target", async () => {
  const r = await runChat(["--version"]);
  assertEquals(r.code, 0);
  assertEquals(
    r.stdout.trim(),
    `chat ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})`,
  );
});

const OPTIONS: Record<string, Record<string, unknown>> = {
  serve: SERVE_OPTIONS,
  join: JOIN_OPTIONS,
  id: ID_OPTIONS,
  invite: INVITE_OPTIONS,
  servers: {},
};

for (const [command, options] of Object.entries(OPTIONS)) {
  Deno.test(`chat ${command} --help prints its own usage, naming every option, to stdout and exits 0`, async () => {
    for (
      const args of [
        [command, "--help"],
        [command, "-h"],
        ["help", command],
        // --help wins over anything else on the line, even a bad option
        [command, "--bogus", "--help"],
      ]
    ) {
      const r = await runChat(args);
      assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assertEquals(r.stderr, "");
      assert(
        r.stdout.startsWith(`Usage: chat ${command}`),
        `${args.join(" ")}:\n${r.stdout}`,
      );
      for (const option of Object.keys(options)) {
        assertIncludes(r.stdout, `--${option}`, `chat ${command} --help`);
      }
    }
  });
}

const usageErrors: [string[], string, string][] = [
  [[], "no command given", "run `chat --help` for usage"],
  [
    ["frobnicate"],
    'unknown command "frobnicate"',
    "run `chat --help` for usage",
  ],
  [
    ["serve", "--bogus"],
    "unknown option '--bogus'",
    "run `chat serve --help` for usage",
  ],
  [
    ["serve", "--port", "99999"],
    "--port must be a number from 0 to 65535",
    "run `chat serve --help` for usage",
  ],
  [
    ["serve", "--cert", "a.pem"],
    "--cert and --key go together",
    "run `chat serve --help` for usage",
  ],
  [["join"], "join needs --user NAME", "run `chat join --help` for usage"],
  [
    ["join", "--user"],
    "option '--user <value>' argument missing",
    "run `chat join --help` for usage",
  ],
  [["id"], "id needs --user NAME", "run `chat id --help` for usage"],
  [
    ["servers", "--all"],
    "unknown option '--all'",
    "run `chat servers --help` for usage",
  ],
  [
    ["join", "--user", "bad name"],
    'invalid --user "bad name": a username uses only letters',
    "pick a name like alice or bob_2",
  ],
  [
    ["join", "--user", "x".repeat(33)],
    `invalid --user "${"x".repeat(33)}": a username has at most 32 characters`,
    "pick a name like alice or bob_2",
  ],
  [
    ["id", "--user", "_zed"],
    'invalid --user "_zed"',
    "pick a name like alice or bob_2",
  ],
  [
    ["join", "--user", "ok", "--room", "no spaces"],
    'bad --room "no spaces"',
    "use a name like general or team-x",
  ],
];

for (const [args, message, hint] of usageErrors) {
  Deno.test(`chat ${args.join(" ") || "(nothing)"} is a usage error with exit code 2`, async () => {
    await using temp = await tempDir();
    const home = temp.path;
    const r = await runChat(args, { env: { XDG_CONFIG_HOME: home } });
    assertEquals(r.code, 2, r.stderr);
    assertEquals(r.stdout, "");
    assertIncludes(r.stderr, `chat: error: ${message}`);
    assertIncludes(r.stderr, `chat: hint: ${hint}`);
    assert(!r.stderr.includes("    at "), "no stack trace");
    // nothing was created for a name that was refused
    assertEquals([...Deno.readDirSync(home)], []);
  });
}

Deno.test("chat id shows only keys that exist: for a name without keys it exits 1 with a hint to --create, and --create makes them", async () => {
  await using temp = await tempDir();
  const home = temp.path;
  const env = { XDG_CONFIG_HOME: home };
  const missing = await runChat(["id", "--user", "zed"], { env });
  assertEquals(missing.code, 1, missing.stderr);
  assertEquals(missing.stdout, "");
  assertIncludes(missing.stderr, "chat: error: zed has no keys here");
  assertIncludes(
    missing.stderr,
    "chat: hint: `chat id --user zed --create` makes them",
  );
  await assertNoKeyFile(home, "zed");
  const created = await runChat(["id", "--user", "zed", "--create"], {
    env,
  });
  assertEquals(created.code, 0, created.stderr);
  assertIncludes(created.stderr, "created keys for zed in");
  assert(/^zed( [0-9a-f]{4}){16}$/.test(created.stdout.trim()));
  const shown = await runChat(["id", "--user", "zed"], { env });
  assertEquals(shown.code, 0, shown.stderr);
  assertEquals(shown.stdout, created.stdout);
  assertEquals(shown.stderr, "");
  const again = await runChat(["id", "--user", "zed", "--create"], { env });
  assertEquals(again.stdout, created.stdout, "--create keeps existing keys");
  assertEquals(again.stderr, "");
});

async function assertNoKeyFile(home: string, user: string): Promise<void> {
  for (const name of [`${user}.json`, `${user}.pending.json`]) {
    const path = join(home, "chat", "keys", name);
    const exists = await Deno.stat(path).then(() => true, () => false);
    assert(!exists, `${path} should not exist`);
  }
}

Deno.test("join with a --ca file that holds no certificate says so, instead of blaming the server", async () => {
  await using temp = await tempDir();
  const home = temp.path;
  const notPem = join(home, "ca.pem");
  await Deno.writeTextFile(notPem, "this is not a certificate\n");
  const r = await runChat([
    "join",
    "--user",
    "zed",
    "--server",
    "127.0.0.1:1",
    "--ca",
    notPem,
  ], { env: { XDG_CONFIG_HOME: join(home, "config") } });
  assertEquals(r.code, 1, r.stderr);
  assertIncludes(r.stderr, `chat: error: ${notPem} holds no PEM certificate`);
  assertIncludes(
    r.stderr,
    "chat: hint: pass the ca.pem that `chat serve` printed",
  );
  assert(!r.stderr.includes("not the CA of this server"), r.stderr);
  await assertNoKeyFile(join(home, "config"), "zed");
});

Deno.test("join to a server that is not running says so with a hint, and keeps no keys", async () => {
  await using temp = await tempDir();
  const home = temp.path;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // the port is now closed: connecting is refused
  const r = await runChat([
    "join",
    "--user",
    "zed",
    "--server",
    `127.0.0.1:${port}`,
  ], {
    env: { XDG_CONFIG_HOME: home },
  });
  assertEquals(r.code, 1);
  assertIncludes(r.stderr, "connection refused");
  assertIncludes(r.stderr, "chat: hint: is `chat serve` running there?");
  await assertNoKeyFile(home, "zed"); // no login was sent: no keys kept
});
