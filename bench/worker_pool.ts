/**
 * The coordinator's side of the worker processes: spawn K `bench/worker.ts`
 * subprocesses, send each a command as a JSON line, and match the JSON-line
 * answers by id. Workers keep the simulated clients off the coordinator
 * (and off one core), so the generator is less likely to be the bottleneck.
 * @module
 */
import { within } from "./clock.ts";
import { pumpLines } from "./line_stream.ts";

const WORKER = new URL("./worker.ts", import.meta.url).pathname;
const encoder = new TextEncoder();

interface WorkerHandle {
  child: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  waiting: Map<number, { resolve(v: unknown): void; reject(e: Error): void }>;
  stderr: string[];
  pumps: Promise<void>[];
}

/** K worker processes. */
export class WorkerPool {
  #workers: WorkerHandle[];
  #nextId = 1;

  private constructor(workers: WorkerHandle[]) {
    this.#workers = workers;
  }

  /** Start `count` workers. */
  static start(count: number): WorkerPool {
    const workers = Array.from({ length: count }, (): WorkerHandle => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", WORKER],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const handle: WorkerHandle = {
        child,
        writer: child.stdin.getWriter(),
        waiting: new Map(),
        stderr: [],
        pumps: [],
      };
      handle.pumps = [
        pumpLines(child.stdout, (line) => {
          const msg = JSON.parse(line) as {
            id: number;
            ok: boolean;
            result?: unknown;
            error?: string;
          };
          const waiter = handle.waiting.get(msg.id);
          handle.waiting.delete(msg.id);
          if (msg.ok) waiter?.resolve(msg.result);
          else waiter?.reject(new Error(`worker: ${msg.error}`));
        }),
        pumpLines(child.stderr, (line) => {
          handle.stderr.push(line);
          if (handle.stderr.length > 50) handle.stderr.shift();
        }),
      ];
      child.status.then((status) => {
        for (const w of handle.waiting.values()) {
          w.reject(
            new Error(
              `worker exited (${status.code}):\n${handle.stderr.join("\n")}`,
            ),
          );
        }
        handle.waiting.clear();
      });
      return handle;
    });
    return new WorkerPool(workers);
  }

  /** Number of workers. */
  get size(): number {
    return this.#workers.length;
  }

  /** Process ids (for /proc CPU accounting). */
  get pids(): number[] {
    return this.#workers.map((w) => w.child.pid);
  }

  /** Send one command to worker `i`; resolves with its answer. */
  request<T>(i: number, command: Record<string, unknown>): Promise<T> {
    const w = this.#workers[i]!;
    const id = this.#nextId++;
    const answer = new Promise<T>((resolve, reject) => {
      w.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    w.writer.write(encoder.encode(JSON.stringify({ ...command, id }) + "\n"))
      .catch(() => {});
    return answer;
  }

  /** Send a command to every worker (built per worker); resolves with all answers. */
  all<T>(command: (i: number) => Record<string, unknown>): Promise<T[]> {
    return Promise.all(
      this.#workers.map((_, i) => this.request<T>(i, command(i))),
    );
  }

  /** Close every worker's connections, end its input and wait for it (killing stragglers). */
  async close(): Promise<void> {
    await within(this.all(() => ({ cmd: "close" })).catch(() => {}), 15_000);
    await Promise.all(this.#workers.map(async (w) => {
      await w.writer.close().catch(() => {});
      const timer = setTimeout(() => {
        try {
          w.child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, 10_000);
      await w.child.status;
      clearTimeout(timer);
      await Promise.all(w.pumps);
    }));
  }
}
