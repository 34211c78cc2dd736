/**
 * What a new user trips over in the first hour (issue 11), end to end with
 * a real server and real TLS: join lines that run as printed, a port in use
 * reported once with a hint, timestamped server logs, keys kept only once a
 * server accepted them (and not lost if the client dies in between), and
 * the saved server chosen for the user who joins.
 */
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import {
  ClientProcess,
  disposableList,
  runChat,
  ServerProcess,
} from "./_harness.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z chat: /;

/**
 * Run a printed join line in a shell, as a person would paste it: NAME
 * replaced by `user`, `--json` added, one message on stdin.
 */
async function runPrinted(
  line: string,
  user: string,
  options: { cwd: string; home: string },
) {
  const command = line.replace(/ --user NAME\b/, ` --user ${user}`) +
    " --json";
  const child = new Deno.Command("sh", {
    args: ["-c", command],
    cwd: options.cwd,
    env: { XDG_CONFIG_HOME: options.home, NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`${user} ran the line\n`));
  await writer.close();
  const out = await child.output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    command,
    code: out.code,
    stdout: text(out.stdout),
    stderr: text(out.stderr),
  };
}

function assertJoined(
  r: Awaited<ReturnType<typeof runPrinted>>,
  user: string,
): void {
  const context = `${r.command}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  assertEquals(r.code, 0, context);
  assertIncludes(r.stdout, '"type":"ready"', context);
  assertIncludes(r.stdout, `"text":"${user} ran the line"`, context);
}

Deno.test("every server log line starts with an ISO-8601 UTC timestamp, and the server's join line runs as printed", async () => {
  await using server = await ServerProcess.start();
  const lines = server.output.items;
  for (const line of lines) assert(TIMESTAMP.test(line), line);
  const printed = lines.map((l) =>
    / chat: clients join with: (.+ --user NAME --server \S+ --ca \S+)$/
      .exec(l)?.[1]
  ).find((l) => l !== undefined);
  assert(printed, server.log);
  assertIncludes(printed, ` --server ${server.address} `);
  if (Deno.cwd() === ROOT) {
    assert(
      printed.startsWith(`npx -y deno@${Deno.version.deno} task join `),
      printed,
    );
  }
  const home = join(server.dir, "home-carol");
  assertJoined(
    await runPrinted(printed, "carol", { cwd: Deno.cwd(), home }),
    "carol",
  );
  await server.stop();
  for (const line of server.output.items) assert(TIMESTAMP.test(line), line);
});

Deno.test("chat invite's join line runs as printed, from the project directory (a deno task) and from anywhere else (deno run)", async () => {
  await using server = await ServerProcess.start();
  const where = ["--data", server.dataDir, "--certs", server.certsDir];
  const elsewhere = await Deno.makeTempDir({ dir: server.dir });
  const deno = `npx -y deno@${Deno.version.deno}`;
  const cases: [string, string, string][] = [
    [ROOT, "dana", `${deno} task join --invite `],
    [elsewhere, "eve", `${deno} run --no-prompt `],
  ];
  for (const [cwd, user, prefix] of cases) {
    const made = await runChat(["invite", ...where], { cwd });
    assertEquals(made.code, 0, made.stderr);
    const line = made.stdout.trim();
    assert(line.startsWith(prefix), `from ${cwd}: ${line}`);
    assert(/ join --invite chat1:\S+ --user NAME$/.test(line), line);
    const home = join(server.dir, `home-${user}`);
    assertJoined(await runPrinted(line, user, { cwd, home }), user);
  }
});

Deno.test("a port in use is reported once, with a hint to use --port or stop the other server", async () => {
  await using server = await ServerProcess.start();
  const r = await runChat([
    "serve",
    "--port",
    String(server.port),
    "--data",
    join(server.dir, "data2"),
    "--certs",
    server.certsDir,
  ]);
  assertEquals(r.code, 1, r.stderr);
  assertEquals(r.stderr.trim().split("\n"), [
    `chat: error: cannot listen on 127.0.0.1:${server.port}: the address is already in use`,
    "chat: hint: use --port N, or stop the other server",
  ]);
  assert(!r.stdout.includes("listener error"), r.stdout);
  assert(!r.stdout.includes("listening on"), r.stdout);
});

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("keys are kept once the server accepted them, and keys of a login that died before they were saved are used again, not replaced", async () => {
  await using server = await ServerProcess.start();
  const home = join(server.dir, "home-bob");
  const keys = join(home, "chat", "keys");
  await using first = await ClientProcess.ready(server, "bob", {
    configHome: home,
  });
  const ready = first.events.items.find((e) => e.type === "ready")!;
  assertEquals(await first.end(), 0);
  assertIncludes(
    first.stderr.items.join("\n"),
    `chat: created keys for bob in ${join(keys, "bob.json")}`,
  );
  assertEquals(
    (await Deno.stat(join(keys, "bob.json"))).mode! & 0o777,
    0o600,
  );
  assertEquals((await Deno.stat(keys)).mode! & 0o777, 0o700);
  assert(!await exists(join(keys, "bob.pending.json")));

  // The client died after the server registered bob but before it moved
  // the keys from the pending file into place: the next run logs in with
  // those keys (the server would refuse new ones for bob) and keeps them.
  await Deno.rename(join(keys, "bob.json"), join(keys, "bob.pending.json"));
  await using again = await ClientProcess.ready(server, "bob", {
    configHome: home,
  });
  const readyAgain = again.events.items.find((e) => e.type === "ready")!;
  assertEquals(readyAgain.fingerprint, ready.fingerprint);
  assertEquals(await again.end(), 0);
  assert(await exists(join(keys, "bob.json")));
  assert(!await exists(join(keys, "bob.pending.json")));
  assertEquals(
    (await Deno.stat(join(keys, "bob.json"))).mode! & 0o777,
    0o600,
  );
});

Deno.test("a key an invite-only server does not admit is refused with a hint to /allow or an invite, and that key is kept for the /allow", async () => {
  await using server = await ServerProcess.start({ args: ["--invite-only"] });
  await using stranger = ClientProcess.start(server, "stranger");
  assertEquals(await stranger.end(), 1);
  const stderr = stranger.stderr.items.join("\n");
  assertIncludes(stderr, "this server is invite-only");
  const allowed = /fingerprint ([0-9a-f]{64})/.exec(stderr)?.[1];
  assert(allowed, stderr);
  assertIncludes(
    stderr,
    `chat: hint: ask an operator to run: /allow ${allowed} (or for an invite`,
  );
  const keys = join(stranger.configHome, "chat", "keys");
  const left = await Array.fromAsync(Deno.readDir(keys)).catch(() => []);
  assertEquals(left.map((f) => f.name), ["stranger.json"]);
  const id = await runChat(["id", "--user", "stranger"], {
    env: { XDG_CONFIG_HOME: stranger.configHome },
  });
  assertEquals(id.code, 0, id.stderr);
  assertEquals(
    id.stdout.trim().slice("stranger ".length).replaceAll(" ", ""),
    allowed,
    "chat id shows the key the /allow line names",
  );
});

Deno.test("with two saved servers, join --user alone picks the one that user used last, else says which it picked; ready names the server", async () => {
  await using a = await ServerProcess.start();
  await using b = await ServerProcess.start();
  await using clients = disposableList<ClientProcess>();
  const home = join(a.dir, "home-shared");
  const once = async (
    server: ServerProcess,
    user: string,
    saved: boolean,
  ) => {
    const client = ClientProcess.start(server, user, {
      configHome: home,
      ...(saved ? { noServerFlags: true } : {}),
    });
    clients.push(client);
    const ready = await client.waitFor((e) => e.type === "ready", "ready");
    assertEquals(await client.end(), 0);
    return { ready, stderr: client.stderr.items.join("\n") };
  };
  await once(a, "dave", false);
  await once(b, "erin", false); // b is now the server joined last

  // frank has used neither: the server joined last, and it says so
  const frank = await once(b, "frank", true);
  assertEquals(frank.ready.server, b.address);
  assert(
    new RegExp(
      `^chat: using ${b.address} \\(last used \\S+\\); pass --server to choose$`,
      "m",
    ).test(frank.stderr),
    frank.stderr,
  );

  // dave used a: back to a, although b was joined last, and no guess
  const dave = await once(a, "dave", true);
  assertEquals(dave.ready.server, a.address, "dave goes back to a");
  assert(!dave.stderr.includes("chat: using"), dave.stderr);
});
