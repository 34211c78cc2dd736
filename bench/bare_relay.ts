/**
 * The baseline: a bare Deno TLS line relay, the runtime's own limit. Each
 * complete line a client sends is written to every other client; what
 * piles up for a peer while a write is in flight goes out in one write (as
 * the chat server coalesces). No parsing, no storage, no limits, no login.
 *
 *     deno run -A bench/bare_relay.ts CERT.pem KEY.pem   # prints "listening on HOST:PORT"
 * @module
 */
const [certFile = "", keyFile = ""] = Deno.args;
const listener = Deno.listenTls({
  hostname: "127.0.0.1",
  port: 0,
  cert: Deno.readTextFileSync(certFile),
  key: Deno.readTextFileSync(keyFile),
});
console.log(`listening on 127.0.0.1:${(listener.addr as Deno.NetAddr).port}`);
type Peer = { conn: Deno.TlsConn; queue: Uint8Array[]; busy: boolean };
const peers = new Set<Peer>();

async function flush(p: Peer): Promise<void> {
  p.busy = true;
  try {
    while (p.queue.length) {
      const bytes = p.queue.length === 1 ? p.queue[0]! : concat(p.queue);
      p.queue = [];
      for (let n = 0; n < bytes.length;) {
        n += await p.conn.write(bytes.subarray(n));
      }
    }
  } catch {
    p.queue = []; // the peer went away; its reader cleans up
  }
  p.busy = false;
}

function concat(parts: Uint8Array[], n = 0): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, b) => s + b.length, 0));
  for (const b of parts) out.set(b, (n += b.length) - b.length);
  return out;
}

async function serve(conn: Deno.TlsConn): Promise<void> {
  const me: Peer = { conn, queue: [], busy: false };
  peers.add(me);
  const buf = new Uint8Array(16 * 1024);
  let partial = new Uint8Array(0);
  try {
    for (let n; (n = await conn.read(buf)) !== null;) {
      const chunk = partial.length
        ? concat([partial, buf.subarray(0, n)])
        : buf.subarray(0, n);
      const end = chunk.lastIndexOf(10) + 1;
      partial = chunk.slice(end);
      if (end === 0) continue;
      const lines = chunk.slice(0, end);
      for (const p of peers) {
        if (p === me) continue;
        p.queue.push(lines);
        if (!p.busy) flush(p);
      }
    }
  } catch {
    // the peer went away
  } finally {
    peers.delete(me);
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

for await (const conn of listener) serve(conn);
