import { ChatClient } from "./chat_client.ts";
import { TrustStore } from "./trust_store.ts";
import type { ChatEvent } from "./events.ts";
import { generateIdentity } from "../shared/crypto/identity.ts";
import { FrameDecoder } from "../shared/codec.ts";

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

Deno.test("a client gives up on a server that goes silent: it pings, then drops the connection", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const clientSide = await Deno.connect({ hostname: "127.0.0.1", port });
  const serverSide = await listener.accept();
  const events: ChatEvent[] = [];
  try {
    const client = new ChatClient({
      identity: await generateIdentity("alice"),
      fingerprint: "test",
      trust: TrustStore.inMemory(),
      serverName: "127.0.0.1",
      room: "general",
      onEvent: (e) => events.push(e),
      idlePingMs: 100,
      idleTimeoutMs: 400,
    });
    // the "server" accepts and reads, but never says anything
    const received: string[] = [];
    const reading = (async () => {
      const decoder = new FrameDecoder(65536);
      const buffer = new Uint8Array(4096);
      while (true) {
        const n = await serverSide.read(buffer).catch(() => null);
        if (n === null) return;
        for (const frame of decoder.push(buffer.subarray(0, n))) {
          received.push(frame.t);
        }
      }
    })();
    const outcome = await client.runConnection(clientSide);
    assert(
      outcome === "lost",
      `the connection should count as lost, not ${outcome}`,
    );
    await reading;
    assert(received.includes("ping"), `the client pinged first: ${received}`);
    assert(
      events.some((e) =>
        e.type === "system" && /no answer from the server/.test(e.message)
      ),
      `the user is told why: ${JSON.stringify(events)}`,
    );
    await client.ready.catch(() => {});
  } finally {
    serverSide.close();
    listener.close();
  }
});
