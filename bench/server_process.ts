/**
 * The processes under test: a real `chat serve` (temp data dir, port 0,
 * relaxed limits) or the bare relay, started as subprocesses, ready once
 * they print "listening on HOST:PORT". Their output is drained (the server
 * logs every login) and its tail kept for error messages.
 * @module
 */
import { join } from "node:path";
import { within } from "./clock.ts";
import { pumpLines } from "./line_stream.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const RELAYS = {
  deno: new URL("./bare_relay.ts", import.meta.url).pathname,
  node: new URL("./bare_relay_node.ts", import.meta.url).pathname,
};

/** A running server or relay. */
export interface TargetProcess {
  kind: "chat" | "relay";
  pid: number;
  port: number;
  /** The CA clients trust (PEM). */
  caPem: string;
  /** Last lines of its output. */
  tail(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** Settings of the chat server under test. */
export interface ChatServerOptions {
  /** Temp dir of this run: `data-N/` and the shared `certs/` go here. */
  dir: string;
  /** Extra `chat serve` flags (e.g. --idle-ping). */
  extraArgs: string[];
  /** Extra `deno run` flags (e.g. --inspect for --profile). */
  denoArgs?: string[];
}

/** Limits relaxed so that the bench measures speed, not the defences (see README). */
export const RELAXED_SERVER_FLAGS = [
  "--rate-burst",
  "1000000",
  "--rate-per-second",
  "1000000",
  "--max-connections",
  "100000",
  "--max-connections-per-ip",
  "100000",
];

let dataDirs = 0;

async function spawnUntilListening(
  kind: "chat" | "relay",
  args: string[],
  caPath: string | null,
): Promise<TargetProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const listening = Promise.withResolvers<number>();
  const pump = (stream: ReadableStream<Uint8Array>) =>
    pumpLines(stream, (line) => {
      const m = /^(?:\S+ )?(?:chat: )?listening on [^\s/]+:(\d+)$/.exec(line);
      if (m) listening.resolve(Number(m[1]));
      lines.push(line);
      if (lines.length > 200) lines.shift();
    });
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  child.status.then((s) =>
    listening.reject(
      new Error(
        `${kind} exited (${s.code}) before listening:\n${lines.join("\n")}`,
      ),
    )
  );
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    if (!await within(child.status, 10_000)) {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone meanwhile
      }
      await child.status;
    }
    await pumps;
  };
  let port: number;
  try {
    port = await listening.promise;
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    kind,
    pid: child.pid,
    port,
    caPem: caPath ? await Deno.readTextFile(caPath) : "",
    tail: () => lines.join("\n"),
    stop,
  };
}

/** Start `chat serve` on 127.0.0.1 port 0 with a fresh data dir. */
export async function startChatServer(
  options: ChatServerOptions,
): Promise<TargetProcess> {
  const certs = join(options.dir, "certs");
  return await spawnUntilListening("chat", [
    "run",
    "-A",
    ...(options.denoArgs ?? []),
    MAIN,
    "serve",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--data",
    join(options.dir, `data-${++dataDirs}`),
    "--certs",
    certs,
    ...RELAXED_SERVER_FLAGS,
    ...options.extraArgs,
  ], join(certs, "ca.pem"));
}

/** Start the bare relay (Deno.listenTls or node:tls) with the certificate in `dir`. */
export async function startRelay(
  dir: string,
  impl: "deno" | "node" = "deno",
): Promise<TargetProcess> {
  const certs = join(dir, "certs");
  return await spawnUntilListening("relay", [
    "run",
    "-A",
    RELAYS[impl],
    join(certs, "server.pem"),
    join(certs, "server-key.pem"),
  ], join(certs, "ca.pem"));
}
