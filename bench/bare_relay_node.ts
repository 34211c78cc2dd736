/**
 * The same bare line relay as bare_relay.ts, on `node:tls` (what the chat
 * server now serves through) with Nagle off: `--baseline node` compares
 * the server with a relay that pays the same TLS stack's costs.
 *
 *     deno run -A bench/bare_relay_node.ts CERT.pem KEY.pem   # prints "listening on HOST:PORT"
 * @module
 */
import tls from "node:tls";

const [certFile = "", keyFile = ""] = Deno.args;
const peers = new Set<tls.TLSSocket>();
const server = tls.createServer({
  cert: Deno.readTextFileSync(certFile),
  key: Deno.readTextFileSync(keyFile),
}, (socket) => {
  socket.setNoDelay(true);
  peers.add(socket);
  let partial = new Uint8Array(0);
  socket.on("data", (data: Uint8Array) => {
    let chunk = data;
    if (partial.length) {
      chunk = new Uint8Array(partial.length + data.length);
      chunk.set(partial);
      chunk.set(data, partial.length);
    }
    const end = chunk.lastIndexOf(10) + 1;
    partial = chunk.slice(end);
    if (end === 0) return;
    const lines = chunk.slice(0, end);
    for (const p of peers) if (p !== socket) p.write(lines);
  });
  const gone = () => peers.delete(socket);
  socket.on("close", gone);
  socket.on("error", gone);
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as { port: number };
  console.log(`listening on 127.0.0.1:${port}`);
});
