/**
 * Issue 13, items 3 and 6, against a real `chat serve` while two real
 * clients keep chatting (tests/abuse/_probe.ts): TCP connections that never
 * finish the TLS handshake, from many loopback addresses (Linux routes all
 * of 127/8 to lo) and from the chatting users' own address; and connect
 * churn, tens of thousands of connections the server refuses.
 * @module
 */
import net from "node:net";
import { ClientProcess, ServerProcess } from "../_harness.ts";
import { assertHealthy, ChatProbe, RssSampler, scaled } from "./_probe.ts";

/** The default connection limits, but a message rate the probe never reaches. */
const CHATTY = ["--rate-burst", "100000", "--rate-per-second", "100000"];

/** Plain TCP connections that never send a byte: stalled TLS handshakes. */
class Stalls implements AsyncDisposable {
  readonly sockets: net.Socket[] = [];

  /** Open `n` from `localAddress`; resolves once all are connected (or refused). */
  async open(port: number, localAddress: string, n: number): Promise<void> {
    await Promise.all(
      Array.from({ length: n }, () =>
        new Promise<void>((resolve) => {
          const socket = net.connect({ host: "127.0.0.1", port, localAddress });
          this.sockets.push(socket);
          socket.on("error", () => resolve());
          socket.on("close", () => resolve());
          socket.on("connect", () => resolve());
        })),
    );
  }

  /** `await using`: close every one. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(
      this.sockets.map((socket) =>
        new Promise<void>((resolve) => {
          if (socket.closed) return resolve();
          socket.once("close", () => resolve());
          socket.destroy();
        })
      ),
    );
  }
}

/** Connect from `localAddress` and close at once; resolves when closed. */
function connectAndClose(port: number, localAddress: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    socket.on("connect", () => socket.destroy());
    socket.on("error", () => {});
    socket.on("close", () => resolve());
  });
}

/** `total` connect-and-close rounds, `parallel` at a time, spread over `addresses`. */
async function churn(
  port: number,
  addresses: string[],
  total: number,
  parallel = 64,
): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < total) {
      const i = next++;
      await connectAndClose(port, addresses[i % addresses.length]!);
    }
  }));
}

Deno.test("stalled TLS handshakes from many addresses and from the users' own address do not keep a real user out", async () => {
  await using server = await ServerProcess.start({ limits: [...CHATTY] });
  await using rss = await RssSampler.start(server.pid);
  await using probe = await ChatProbe.start(server);
  await using stalls = new Stalls();
  // the attack: 15 stalls from each of many addresses (170 at full
  // size, 2,550 stalls, over the global cap), one /24 apiece …
  const addresses = scaled(40, 170);
  for (let a = 0; a < addresses; a++) {
    await stalls.open(server.port, `127.1.${a}.1`, 15);
  }
  // … and 16 from the address the users log in from
  await stalls.open(server.port, "127.0.0.1", 16);
  const started = performance.now();
  await using _carol = await ClientProcess.ready(server, "carol");
  const joinMs = performance.now() - started;
  const report = await probe.finish();
  const summary = await assertHealthy(server, rss, report);
  console.log(
    `${addresses * 15 + 16} stalled handshakes; carol joined in ${
      joinMs.toFixed(0)
    } ms; ${summary}`,
  );
});

Deno.test("connect churn: refused connections leave no memory behind while others chat", async () => {
  // stalls held for the whole test fill every churning address's share
  await using server = await ServerProcess.start({
    limits: [...CHATTY],
    args: ["--login-timeout", "60s"],
  });
  await using rss = await RssSampler.start(server.pid);
  await using probe = await ChatProbe.start(server);
  await using stalls = new Stalls();
  const addresses = Array.from({ length: 8 }, (_, i) => `127.2.0.${i + 1}`);
  for (const address of addresses) await stalls.open(server.port, address, 16);
  const total = scaled(10_000, 60_000);
  const started = performance.now();
  await churn(server.port, addresses, total);
  const seconds = (performance.now() - started) / 1000;
  const report = await probe.finish();
  const summary = await assertHealthy(server, rss, report);
  console.log(
    `${total} refused connects in ${seconds.toFixed(1)} s; ${summary}`,
  );
});
