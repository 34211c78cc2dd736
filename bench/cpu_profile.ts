/**
 * `--profile`: sample the chat server's JavaScript CPU profile over the
 * measured window through V8's inspector (the server runs with
 * `deno run --inspect`), save the `.cpuprofile` (open it in Chrome
 * DevTools) and summarise self time by function.
 * @module
 */
import { CACHE_DIR } from "./identities.ts";

/** Self time of one function over the profiled window. */
export interface HotFunction {
  fn: string;
  selfPct: number;
}

/** A profile's summary. */
export interface ProfileSummary {
  name: string;
  file: string;
  top: HotFunction[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** A free TCP port on 127.0.0.1 for the inspector. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** One inspector session with a server process. */
export class CpuProfiler {
  readonly summaries: ProfileSummary[] = [];
  #ws: WebSocket;
  #next = 1;
  #waiting = new Map<number, (result: unknown) => void>();
  #snapshotChunks: string[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (event) => {
      const msg = JSON.parse(String(event.data));
      if (msg.method === "HeapProfiler.addHeapSnapshotChunk") {
        this.#snapshotChunks.push(msg.params.chunk);
      } else if (msg.id !== undefined) {
        this.#waiting.get(msg.id)?.(msg.result);
        this.#waiting.delete(msg.id);
      }
    };
  }

  /** Connect to the inspector whose URL the server printed ("ws://…"). */
  static async attach(url: string): Promise<CpuProfiler> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`cannot open the inspector ${url}`));
    });
    const profiler = new CpuProfiler(ws);
    await profiler.#call("Profiler.enable");
    await profiler.#call("Profiler.setSamplingInterval", { interval: 250 });
    return profiler;
  }

  #call(method: string, params: unknown = {}): Promise<unknown> {
    const id = this.#next++;
    const answer = new Promise<unknown>((resolve) => {
      this.#waiting.set(id, resolve);
    });
    this.#ws.send(JSON.stringify({ id, method, params }));
    return answer;
  }

  /** Start sampling. */
  async start(): Promise<void> {
    await this.#call("Profiler.start");
  }

  /** Stop, save `NAME.cpuprofile` under .cache/bench/profiles/ and summarise. */
  async stop(name: string): Promise<ProfileSummary> {
    const { profile } = await this.#call("Profiler.stop") as {
      profile: { nodes: ProfileNode[]; samples: number[] };
    };
    const dir = `${CACHE_DIR}profiles/`;
    await Deno.mkdir(dir, { recursive: true });
    const file = `${dir}${name}.cpuprofile`;
    await Deno.writeTextFile(file, JSON.stringify(profile));
    const byNode = new Map<number, ProfileNode>(
      profile.nodes.map((n) => [n.id, n]),
    );
    const self = new Map<string, number>();
    for (const id of profile.samples) {
      const frame = byNode.get(id)?.callFrame;
      const where = frame?.url
        ? ` ${
          frame.url.replace(
            /^.*\/(main|shared|server|client|bench|ext)\//,
            "$1/",
          )
        }:${frame.lineNumber + 1}`
        : "";
      const key = `${frame?.functionName || "(anonymous)"}${where}`;
      self.set(key, (self.get(key) ?? 0) + 1);
    }
    const total = profile.samples.length || 1;
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 25).map((
      [fn, n],
    ) => ({ fn, selfPct: Math.round((n / total) * 1000) / 10 }));
    const summary = { name, file, top };
    this.summaries.push(summary);
    return summary;
  }

  /** Collect garbage, then the JS heap in use (KiB). */
  async heapUsedKiB(): Promise<number> {
    await this.#call("HeapProfiler.collectGarbage");
    const usage = await this.#call("Runtime.getHeapUsage") as {
      usedSize: number;
    };
    return usage.usedSize / 1024;
  }

  /**
   * Save a V8 heap snapshot as `NAME.heapsnapshot` under .cache/bench/profiles/
   * (open it in Chrome DevTools' Memory tab) and return its path.
   */
  async heapSnapshot(name: string): Promise<string> {
    this.#snapshotChunks = [];
    await this.#call("HeapProfiler.takeHeapSnapshot", {
      reportProgress: false,
    });
    const dir = `${CACHE_DIR}profiles/`;
    await Deno.mkdir(dir, { recursive: true });
    const file = `${dir}${name}.heapsnapshot`;
    await Deno.writeTextFile(file, this.#snapshotChunks.join(""));
    this.#snapshotChunks = [];
    return file;
  }

  /** Close the inspector session. */
  close(): void {
    this.#ws.close();
  }
}
