/**
 * End-to-end test harness: a real `chat serve` process on 127.0.0.1 port 0
 * and real `chat join --json` client processes over real TLS. Waiting is
 * always for an observable event, with a deadline that fails the test.
 * Servers, clients, lists of them and temp dirs are `await using`
 * disposables: declared in the order they are made, they go in reverse
 * (clients before their server) however the test ends.
 * @module
 */
import { join } from "node:path";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

/** Deadline for anything a test waits for. */
export const WAIT_MS = 20_000;

/** Run `chat` with arguments; collects stdout/stderr and the exit code. */
export async function runChat(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(options.cwd ? { cwd: options.cwd } : {}),
  }).spawn();
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

/** Lines of a stream, pushed to a callback as they arrive. */
async function pumpLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const textDecoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += textDecoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
  }
  if (buffer) onLine(buffer);
}

/** Something that collects lines and lets a test wait for one. */
class LineLog<T> {
  readonly items: T[] = [];
  #waiters: { match: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(item)) return true;
      w.resolve(item);
      return false;
    });
  }

  /** Wait for the first item (past or future) that matches. */
  waitFor(match: (item: T) => boolean, what: string, ms = WAIT_MS): Promise<T> {
    const found = this.items.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const done = (item: T) => {
        clearTimeout(timer);
        resolve(item);
      };
      this.#waiters.push({ match, resolve: done });
    });
  }
}

/**
 * Limits for tests about other things: they send bursts far above the
 * default 2 messages/s. Tests of the limits themselves pass `limits: []`
 * (the defaults) or their own values.
 */
export const RELAXED_LIMITS = [
  "--rate-burst",
  "100000",
  "--rate-per-second",
  "100000",
  "--max-connections-per-ip",
  "1000",
];

/** A running `chat serve`. */
export class ServerProcess {
  readonly dir: string;
  readonly dataDir: string;
  readonly certsDir: string;
  readonly output = new LineLog<string>();
  port = 0;
  #child: Deno.ChildProcess;
  #pumps: Promise<void>[];
  /** Whether start() made `dir` (and so removes it on dispose). */
  #ownsDir: boolean;
  #exited = false;

  private constructor(
    dir: string,
    ownsDir: boolean,
    child: Deno.ChildProcess,
  ) {
    this.dir = dir;
    this.#ownsDir = ownsDir;
    this.dataDir = join(dir, "data");
    this.certsDir = join(dir, "certs");
    this.#child = child;
    this.#pumps = [
      pumpLines(child.stdout, (l) => this.output.push(l)),
      pumpLines(child.stderr, (l) => this.output.push(l)),
    ];
    child.status.then(() => this.#exited = true);
  }

  /** True while the server process has not exited. */
  running(): Promise<boolean> {
    // let an exit that already happened be noticed first
    return new Promise((resolve) =>
      setTimeout(() => resolve(!this.#exited), 0)
    );
  }

  /** The CA file clients trust. */
  get caPath(): string {
    return join(this.certsDir, "ca.pem");
  }

  /** The server process's id (for /proc/PID/status and /proc/PID/fd). */
  get pid(): number {
    return this.#child.pid;
  }

  /** `127.0.0.1:PORT`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * Start a server in `dir` (a fresh temp dir by default, removed when the
   * server is disposed) and wait until it listens.
   */
  static async start(
    options: {
      dir?: string;
      args?: string[];
      port?: number;
      limits?: string[];
    } = {},
  ): Promise<ServerProcess> {
    const dir = options.dir ?? await Deno.makeTempDir({ prefix: "chat-e2e-" });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "serve",
        "--port",
        String(options.port ?? 0),
        "--data",
        join(dir, "data"),
        "--certs",
        join(dir, "certs"),
        ...(options.limits ?? RELAXED_LIMITS),
        ...(options.args ?? []),
      ],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const server = new ServerProcess(dir, options.dir === undefined, child);
    try {
      const line = await server.output.waitFor(
        (l) => /listening on \S+:\d+/.test(l),
        "the server to listen",
      );
      server.port = Number(/listening on \S+:(\d+)/.exec(line)![1]);
    } catch (error) {
      await server[Symbol.asyncDispose]();
      throw new Error(
        `${(error as Error).message}\n${server.output.items.join("\n")}`,
      );
    }
    return server;
  }

  /** All output so far. */
  get log(): string {
    return this.output.items.join("\n");
  }

  /** Stop with SIGTERM and wait for exit; returns the exit code. */
  async stop(): Promise<number> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const status = await this.#child.status;
    await Promise.all(this.#pumps);
    return status.code;
  }

  /** Kill with SIGKILL and wait. */
  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.#child.status;
    await Promise.all(this.#pumps);
  }

  /**
   * `await using`: kill the server and remove its directory if start()
   * made it. A `dir` the test passed in is the test's to remove (a server
   * restarted on the same directory must not remove it under the clients).
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
    if (this.#ownsDir) {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }
}

/** An event line printed by `chat join --json`. */
export type ClientEvent = {
  type: string;
  room?: string;
  from?: string;
  user?: string;
  text?: string;
  message?: string;
  own?: boolean;
  history?: boolean;
  seq?: number;
  online?: boolean;
  [key: string]: unknown;
};

/** A running `chat join --json` with piped stdin. */
export class ClientProcess {
  readonly user: string;
  readonly configHome: string;
  readonly events = new LineLog<ClientEvent>();
  readonly stderr = new LineLog<string>();
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pumps: Promise<void>[];
  #stdinClosed = false;

  private constructor(
    user: string,
    configHome: string,
    child: Deno.ChildProcess,
  ) {
    this.user = user;
    this.configHome = configHome;
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#pumps = [
      pumpLines(child.stdout, (line) => {
        try {
          this.events.push(JSON.parse(line));
        } catch {
          this.events.push({ type: "unparsable", text: line });
        }
      }),
      pumpLines(child.stderr, (l) => this.stderr.push(l)),
    ];
  }

  /**
   * Start `chat join --json --user USER` against `server`. `configHome` is
   * the user's XDG_CONFIG_HOME (keys and trust live there); by default a
   * directory named after the user inside the server's temp dir.
   */
  static start(
    server: ServerProcess,
    user: string,
    options: {
      room?: string;
      configHome?: string;
      ca?: string;
      server?: string;
      /** Leave out --server and --ca (saved servers, invites). */
      noServerFlags?: boolean;
      /** More arguments for `chat join`. */
      args?: string[];
    } = {},
  ): ClientProcess {
    const configHome = options.configHome ?? join(server.dir, `home-${user}`);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "join",
        "--json",
        "--user",
        user,
        ...(options.noServerFlags ? [] : [
          "--server",
          options.server ?? server.address,
          "--ca",
          options.ca ?? server.caPath,
        ]),
        ...(options.room ? ["--room", options.room] : []),
        ...(options.args ?? []),
      ],
      env: { XDG_CONFIG_HOME: configHome, NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new ClientProcess(user, configHome, child);
  }

  /** Start and wait for the ready event. */
  static async ready(
    server: ServerProcess,
    user: string,
    options: { room?: string; configHome?: string; server?: string } = {},
  ): Promise<ClientProcess> {
    const client = ClientProcess.start(server, user, options);
    await client.waitFor((e) => e.type === "ready", `${user} to be ready`);
    return client;
  }

  /**
   * Start `users` one after another (each added to `clients`, a
   * disposableList, so that it is killed whatever happens) and resolve once
   * every member has seen every later one join: from then on all of them
   * are in each other's rosters.
   */
  static async members(
    server: ServerProcess,
    users: string[],
    clients: ClientProcess[],
  ): Promise<ClientProcess[]> {
    const started: ClientProcess[] = [];
    for (const user of users) {
      const client = await ClientProcess.ready(server, user);
      clients.push(client);
      for (const earlier of started) {
        await earlier.waitFor(
          (e) => e.type === "join" && e.user === user,
          `${user} joining`,
        );
      }
      started.push(client);
    }
    return started;
  }

  /** Type one line. */
  async send(line: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
  }

  /** Wait for an event. */
  waitFor(
    match: (e: ClientEvent) => boolean,
    what: string,
    ms = WAIT_MS,
  ): Promise<ClientEvent> {
    return this.events.waitFor(match, `${this.user}: ${what}`, ms).catch(
      (error) => {
        throw new Error(
          `${error.message}\nevents: ${
            JSON.stringify(this.events.items)
          }\nstderr: ${this.stderr.items.join("\n")}`,
        );
      },
    );
  }

  /** Send a line and wait until the server acknowledged it (own message event). */
  async say(text: string, room?: string): Promise<ClientEvent> {
    await this.send(text);
    return await this.waitFor(
      (e) =>
        e.type === "message" && e.own === true && e.text === text &&
        (room === undefined || e.room === room),
      `ack of "${text}"`,
    );
  }

  /** Messages received from others (not own, not history). */
  received(room?: string): ClientEvent[] {
    return this.events.items.filter((e) =>
      e.type === "message" && !e.own && (room === undefined || e.room === room)
    );
  }

  /** Close stdin (end of input) and wait for exit; returns the exit code. */
  async end(): Promise<number> {
    if (!this.#stdinClosed) {
      this.#stdinClosed = true;
      await this.#writer.close().catch(() => {});
    }
    const status = await this.#child.status;
    await Promise.all(this.#pumps);
    return status.code;
  }

  /** Kill the process and wait. */
  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
    if (!this.#stdinClosed) {
      this.#stdinClosed = true;
      await this.#writer.close().catch(() => {});
    }
    await this.#child.status;
    await Promise.all(this.#pumps);
  }

  /** `await using`: kill the client (a no-op once it has exited). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }
}

/**
 * An array that disposes every member (all at once) when it is disposed,
 * for clients or connections a test starts in a loop or a helper:
 * `await using clients = disposableList<ClientProcess>()` after the server
 * (so the clients go first), then `clients.push(client)`.
 */
export function disposableList<T extends AsyncDisposable>():
  & T[]
  & AsyncDisposable {
  const members: T[] = [];
  return Object.assign(members, {
    async [Symbol.asyncDispose]() {
      await Promise.all(members.map((m) => m[Symbol.asyncDispose]()));
    },
  });
}

/** A temporary directory that `await using` removes with all it holds. */
export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

/** Make a temporary directory for a test: `await using dir = await tempDir()`. */
export async function tempDir(prefix = "chat-test-"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    },
  };
}
