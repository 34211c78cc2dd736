/**
 * The core end-to-end scenario, for any way of starting `chat`: a server and
 * two `join --json` clients in a fresh directory, a message each way, a
 * `/save`, `id`, an `invite` and a join with it, `servers`, `--help` and
 * `--version`, all asserted. Used with
 * `deno run <exactly scripts/permissions.ts> main.ts` (permissions_test.ts)
 * and with the compiled binary (compiled_test.ts). Every child gets a clean
 * environment: only what the test passes.
 * @module
 */
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import { VERSION } from "../version.ts";
import { disposableList, tempDir } from "./_harness.ts";

/** How to start `chat`: `command` followed by `args`, then chat's own arguments. */
export type ChatLauncher = {
  command: string;
  args: string[];
  /** Added to every child's (otherwise empty) environment. */
  env?: Record<string, string>;
};

/** Deadline for anything the scenario waits for. */
const WAIT_MS = 30_000;
const decoder = new TextDecoder();

/** A permission error from Deno, in any form it prints. */
const PERMISSION_ERROR = /NotCapable|Requires \w+ access|--allow-/;

function spawn(
  launcher: ChatLauncher,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; stdin: boolean },
): Deno.ChildProcess {
  return new Deno.Command(launcher.command, {
    args: [...launcher.args, ...args],
    cwd: options.cwd,
    clearEnv: true,
    env: { NO_COLOR: "1", ...launcher.env, ...options.env },
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Run chat once to the end, with `stdin` as its input (else none). */
export async function runOnce(
  launcher: ChatLauncher,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; stdin?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(launcher, args, {
    cwd: options.cwd,
    ...(options.env ? { env: options.env } : {}),
    stdin: options.stdin !== undefined,
  });
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Lines of a child's output, with a way to wait for one. */
class Lines {
  readonly items: string[] = [];
  readonly done: Promise<void>;
  #waiters: { match: (line: string) => boolean; resolve: () => void }[] = [];
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      let buffer = "";
      for await (
        const chunk of stream.pipeThrough(new TextDecoderStream())
      ) {
        buffer += chunk;
        let i: number;
        while ((i = buffer.indexOf("\n")) >= 0) {
          this.#push(buffer.slice(0, i));
          buffer = buffer.slice(i + 1);
        }
      }
      if (buffer) this.#push(buffer);
      this.#ended = true;
      for (const w of this.#waiters) w.resolve();
      this.#waiters = [];
    })();
  }

  #push(line: string): void {
    this.items.push(line);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(line)) return true;
      w.resolve();
      return false;
    });
  }

  /**
   * The first line (past or future) that matches; an error when the output
   * ends without one, or after WAIT_MS.
   */
  async waitFor(
    match: (line: string) => boolean,
    what: string,
  ): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        if (this.items.some(match) || this.#ended) return resolve();
        timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${what}`)),
          WAIT_MS,
        );
        this.#waiters.push({ match, resolve });
      });
    } finally {
      clearTimeout(timer);
    }
    const found = this.items.find(match);
    if (found === undefined) {
      throw new Error(`the output ended before ${what}`);
    }
    return found;
  }
}

/** A running chat process: its output lines and a way to end it. */
class ChatProcess {
  readonly stdout: Lines;
  readonly stderr: Lines;
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | null;

  constructor(child: Deno.ChildProcess, piped: boolean) {
    this.#child = child;
    this.#stdin = piped ? child.stdin.getWriter() : null;
    this.stdout = new Lines(child.stdout);
    this.stderr = new Lines(child.stderr);
  }

  /** JSON events printed so far (join --json). */
  get events(): Record<string, unknown>[] {
    return this.stdout.items.map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return { type: "unparsable", text: l };
      }
    });
  }

  /** Wait for a JSON event. */
  async waitForEvent(
    match: (e: Record<string, unknown>) => boolean,
    what: string,
  ): Promise<Record<string, unknown>> {
    const parse = (l: string) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    };
    try {
      return parse(
        await this.stdout.waitFor((l) => {
          const e = parse(l);
          return e !== null && match(e);
        }, what),
      );
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\nstdout:\n${
          this.stdout.items.join("\n")
        }\nstderr:\n${this.stderr.items.join("\n")}`,
      );
    }
  }

  /** Type a line. */
  async send(line: string): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(line + "\n"));
  }

  /** Close stdin (if piped), send `signal` (if any), wait; the exit code. */
  async end(signal?: Deno.Signal): Promise<number> {
    await this.#stdin?.close().catch(() => {});
    this.#stdin = null;
    if (signal) {
      try {
        this.#child.kill(signal);
      } catch {
        // already gone
      }
    }
    const { code } = await this.#child.status;
    await Promise.all([this.stdout.done, this.stderr.done]);
    return code;
  }

  /** `await using`: kill it (a no-op once it has exited). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.end("SIGKILL").catch(() => {});
  }

  /** Every stderr line, for asserting there was no permission error. */
  get errors(): string {
    return this.stderr.items.join("\n");
  }
}

function assertNoPermissionError(text: string, who: string): void {
  assert(
    !PERMISSION_ERROR.test(text),
    `${who} hit a permission it was not given:\n${text}`,
  );
}

/**
 * The core scenario, with assertions. Runs everything in a fresh temp
 * directory as the working directory (so the server's default `data/` and
 * `certs/`, `--ca certs/ca.pem` and `/save NAME` are all relative paths) and
 * each user's keys under their own XDG_CONFIG_HOME.
 */
export async function runCoreScenario(launcher: ChatLauncher): Promise<void> {
  await using temp = await tempDir("chat-core-");
  const dir = temp.path;
  await using processes = disposableList<ChatProcess>();
  const version = await runOnce(launcher, ["--version"], { cwd: dir });
  assertEquals(version.code, 0, version.stderr);
  assertEquals(version.stderr, "");
  assertEquals(
    version.stdout.trim(),
    `chat ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})`,
  );

  const help = await runOnce(launcher, ["--help"], { cwd: dir });
  assertEquals(help.code, 0, help.stderr);
  assertEquals(help.stderr, "");
  for (const part of ["chat serve", "chat join", "chat id", "--ca"]) {
    assertIncludes(help.stdout, part);
  }

  const server = new ChatProcess(
    spawn(launcher, ["serve", "--port", "0"], { cwd: dir, stdin: false }),
    false,
  );
  processes.push(server);
  const listening = await server.stdout.waitFor(
    (l) => /listening on 127\.0\.0\.1:\d+/.test(l),
    "the server to listen",
  ).catch((error) => {
    throw new Error(`${error.message}\n${server.errors}`);
  });
  const address = /listening on (\S+)/.exec(listening)![1]!;
  await Deno.stat(join(dir, "certs", "ca.pem"));
  await Deno.stat(join(dir, "data", "chat.db"));

  const join_ = (user: string) => {
    const p = new ChatProcess(
      spawn(launcher, [
        "join",
        "--json",
        "--user",
        user,
        "--server",
        address,
        "--ca",
        "certs/ca.pem",
      ], {
        cwd: dir,
        env: { XDG_CONFIG_HOME: join(dir, `home-${user}`) },
        stdin: true,
      }),
      true,
    );
    processes.push(p);
    return p;
  };
  const alice = join_("alice");
  const bob = join_("bob");
  const aliceReady = await alice.waitForEvent(
    (e) => e.type === "ready",
    "alice to be ready",
  );
  await bob.waitForEvent((e) => e.type === "ready", "bob to be ready");

  const hello = "hello bob, end to end";
  await alice.send(hello);
  await alice.waitForEvent(
    (e) => e.type === "message" && e.own === true && e.text === hello,
    "the server to acknowledge alice's message",
  );
  await bob.waitForEvent(
    (e) => e.type === "message" && e.from === "alice" && e.text === hello,
    "bob to receive alice's message",
  );
  const reply = "hello alice";
  await bob.send(reply);
  await alice.waitForEvent(
    (e) => e.type === "message" && e.from === "bob" && e.text === reply,
    "alice to receive bob's reply",
  );
  await bob.waitForEvent(
    (e) => e.type === "message" && e.own === true && e.text === reply,
    "the server to acknowledge bob's reply",
  );

  await bob.send("/save transcript.txt");
  const saved = await bob.waitForEvent(
    (e) =>
      e.type === "system" && /^saved \d+ messages? /.test(String(e.message)),
    "bob's /save to finish",
  );
  assertIncludes(String(saved.message), "saved 2 messages of #general");
  const transcript = await Deno.readTextFile(join(dir, "transcript.txt"));
  assertIncludes(transcript, `<alice> ${hello}`);
  assertIncludes(transcript, `<bob> ${reply}`);
  if (Deno.build.os !== "windows") {
    const { mode } = await Deno.stat(join(dir, "transcript.txt"));
    assertEquals((mode ?? 0) & 0o777, 0o600, "transcript mode");
  }

  assertEquals(await alice.end(), 0, alice.errors);
  assertEquals(await bob.end(), 0, bob.errors);
  assertNoPermissionError(alice.errors, "alice");
  assertNoPermissionError(bob.errors, "bob");

  const id = await runOnce(launcher, ["id", "--user", "alice"], {
    cwd: dir,
    env: { XDG_CONFIG_HOME: join(dir, "home-alice") },
  });
  assertEquals(id.code, 0, id.stderr);
  assertIncludes(id.stdout, String(aliceReady.fingerprint));

  // An invite made next to the server (its data/ and certs/ in the
  // working directory) lets carol join with no --server and no --ca.
  const invite = await runOnce(launcher, ["invite"], { cwd: dir });
  assertEquals(invite.code, 0, invite.stderr);
  const code = / join --invite (\S+) --user NAME$/.exec(invite.stdout.trim());
  assert(code, `no join line in:\n${invite.stdout}`);
  const carolHome = { XDG_CONFIG_HOME: join(dir, "home-carol") };
  const carol = await runOnce(
    launcher,
    ["join", "--json", "--invite", code[1]!, "--user", "carol"],
    { cwd: dir, env: carolHome, stdin: "carol was invited\n" },
  );
  assertEquals(carol.code, 0, carol.stderr);
  assertIncludes(carol.stdout, '"type":"ready"');
  assertIncludes(carol.stdout, '"text":"carol was invited"');
  assertNoPermissionError(carol.stderr, "carol");
  const servers = await runOnce(launcher, ["servers"], {
    cwd: dir,
    env: carolHome,
  });
  assertEquals(servers.code, 0, servers.stderr);
  assertIncludes(servers.stdout, address);

  assertEquals(await server.end("SIGTERM"), 0, server.errors);
  assertIncludes(server.stdout.items.join("\n"), "chat: stopped");
  assertNoPermissionError(server.errors, "the server");
}
