/**
 * A TCP proxy on 127.0.0.1 for fault injection: it forwards bytes (TLS
 * passes through untouched) until cut() drops every connection and refuses
 * new ones, and restore() lets them through again. A real network fault,
 * no mock.
 * @module
 */

interface Pair {
  client: Deno.Conn;
  upstream: Deno.Conn;
  done: Promise<void>;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) return;
      let written = 0;
      while (written < n) {
        written += await to.write(buffer.subarray(written, n));
      }
    }
  } catch {
    // the other side or cut() closed it
  }
}

/** Forwards 127.0.0.1:port → 127.0.0.1:targetPort, with a switch to cut the line. */
export class TcpProxy {
  readonly port: number;
  #listener: Deno.Listener;
  #targetPort: number;
  #up = true;
  #pairs = new Set<Pair>();
  #refused = new Set<Promise<void>>();
  #loop: Promise<void>;

  private constructor(listener: Deno.Listener, targetPort: number) {
    this.#listener = listener;
    this.#targetPort = targetPort;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#loop = this.#acceptLoop();
  }

  /** Start forwarding to `targetPort`. */
  static start(targetPort: number): TcpProxy {
    return new TcpProxy(
      Deno.listen({ hostname: "127.0.0.1", port: 0 }),
      targetPort,
    );
  }

  /** `127.0.0.1:PORT` of the proxy. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Connections that came through so far (open or closed). */
  accepted = 0;

  async #acceptLoop(): Promise<void> {
    for await (const client of this.#listener) {
      if (!this.#up) {
        closeQuietly(client);
        continue;
      }
      this.accepted++;
      let upstream: Deno.Conn;
      try {
        upstream = await Deno.connect({
          hostname: "127.0.0.1",
          port: this.#targetPort,
        });
      } catch {
        closeQuietly(client);
        continue;
      }
      const pair: Pair = {
        client,
        upstream,
        done: Promise.all([pump(client, upstream), pump(upstream, client)])
          .then(() => {
            closeQuietly(client);
            closeQuietly(upstream);
            this.#pairs.delete(pair);
          }),
      };
      this.#pairs.add(pair);
    }
  }

  /** Drop every forwarded connection and refuse new ones until restore(). */
  async cut(): Promise<void> {
    this.#up = false;
    const pairs = [...this.#pairs];
    for (const p of pairs) {
      closeQuietly(p.client);
      closeQuietly(p.upstream);
    }
    await Promise.all(pairs.map((p) => p.done));
  }

  /** Forward new connections again. */
  restore(): void {
    this.#up = true;
  }

  /** Stop listening and drop everything. */
  async close(): Promise<void> {
    await this.cut();
    this.#listener.close();
    await this.#loop;
    await Promise.all([...this.#refused]);
  }

  /** `await using`: close the proxy. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
