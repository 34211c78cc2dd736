/**
 * The command line: help, version, usage errors and exit codes.
 */
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import { runChat } from "./_harness.ts";
import { VERSION } from "../version.ts";

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

const usageErrors: [string[], string][] = [
  [[], "no command given"],
  [["frobnicate"], 'unknown command "frobnicate"'],
  [["serve", "--bogus"], "unknown option '--bogus'"],
  [["serve", "--port", "99999"], "--port must be a number from 0 to 65535"],
  [["serve", "--cert", "a.pem"], "--cert and --key go together"],
  [["join"], "join needs --user NAME"],
  [["join", "--user"], "option '--user <value>' argument missing"],
  [["id"], "id needs --user NAME"],
];

for (const [args, message] of usageErrors) {
  Deno.test(`chat ${args.join(" ") || "(nothing)"} is a usage error with exit code 2`, async () => {
    const r = await runChat(args);
    assertEquals(r.code, 2, r.stderr);
    assertEquals(r.stdout, "");
    assertIncludes(r.stderr, `chat: error: ${message}`);
    assertIncludes(r.stderr, "chat: hint: run `chat --help` for usage");
  });
}

Deno.test("join with an invalid user name or room explains the rule and exits 1", async () => {
  const home = await Deno.makeTempDir();
  try {
    const badUser = await runChat(["join", "--user", "bad name"], {
      env: { XDG_CONFIG_HOME: home },
    });
    assertEquals(badUser.code, 1);
    assertIncludes(badUser.stderr, 'invalid --user "bad name"');
    const badRoom = await runChat([
      "join",
      "--user",
      "ok",
      "--room",
      "no spaces",
    ], {
      env: { XDG_CONFIG_HOME: home },
    });
    assertEquals(badRoom.code, 1);
    assertIncludes(badRoom.stderr, 'bad --room "no spaces"');
    assert(
      !badRoom.stderr.includes("    at "),
      "no stack trace for an expected error",
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("join to a server that is not running says so with a hint", async () => {
  const home = await Deno.makeTempDir();
  try {
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
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
