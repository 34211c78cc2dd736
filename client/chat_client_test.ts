import { ChatClient } from "./chat_client.ts";
import { TrustStore } from "./trust_store.ts";
import type { ChatEvent } from "./events.ts";
import { generateIdentity } from "../shared/crypto/identity.ts";
import { encodeFrame, FrameDecoder, type RawFrame } from "../shared/codec.ts";
import { toBase64Url } from "../shared/bytes.ts";

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** A client for alice, starting in `room`, recording its events. */
async function aliceIn(
  room: string,
  events: ChatEvent[],
  timing: { idlePingMs?: number; idleTimeoutMs?: number } = {},
): Promise<ChatClient> {
  return new ChatClient({
    identity: await generateIdentity("alice"),
    fingerprint: "test",
    trust: TrustStore.inMemory(),
    serverName: "127.0.0.1",
    room,
    onEvent: (e) => events.push(e),
    ...timing,
  });
}

Deno.test("a client gives up on a server that goes silent: it pings, then drops the connection", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const clientSide = await Deno.connect({ hostname: "127.0.0.1", port });
  const serverSide = await listener.accept();
  const events: ChatEvent[] = [];
  try {
    const client = await aliceIn("general", events, {
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

/**
 * A scripted server on a real TCP socket: it answers the login with
 * `welcome`, then plays `script` with every frame the client sends.
 */
async function withScriptedServer(
  script: (
    frame: { t: string; [k: string]: unknown },
    send: (f: object) => Promise<void>,
  ) => Promise<void>,
  body: (client: ChatClient, events: ChatEvent[]) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const clientSide = await Deno.connect({ hostname: "127.0.0.1", port });
  const serverSide = await listener.accept();
  const send = async (f: object) => {
    await serverSide.write(encodeFrame(f as RawFrame));
  };
  const events: ChatEvent[] = [];
  const client = await aliceIn("general", events);
  const serving = (async () => {
    await send({
      t: "hello",
      v: 2,
      session: crypto.randomUUID(),
      nonce: toBase64Url(new Uint8Array(32)),
      maxFrameBytes: 65536,
      maxKeysFrameBytes: 1 << 20,
      maxTextBytes: 8192,
    });
    const decoder = new FrameDecoder(1 << 20);
    const buffer = new Uint8Array(65536);
    while (true) {
      const n = await serverSide.read(buffer).catch(() => null);
      if (n === null) return;
      for (const frame of decoder.push(buffer.subarray(0, n))) {
        if (frame.t === "login") {
          await send({
            t: "welcome",
            session: "s",
            user: "alice",
            rooms: [],
          });
        } else await script(frame, send);
      }
    }
  })();
  const running = client.runConnection(clientSide);
  try {
    await body(client, events);
  } finally {
    client.close();
    await running;
    serverSide.close();
    await serving;
    listener.close();
  }
}

function joinedFrame(room: string, members: object[]) {
  return { t: "joined", room, roster: members.length, epoch: 0, members };
}

async function memberOf(user: string, idKey?: Uint8Array) {
  const identity = await generateIdentity(user);
  return {
    user,
    uid: identity.uid,
    idKey: toBase64Url(idKey ?? identity.idKey),
    encKey: toBase64Url(identity.encKey),
    online: true,
  };
}

Deno.test("a session started for a full room is refused with room_full instead of hanging", async () => {
  await withScriptedServer(async (frame, send) => {
    if (frame.t === "join") {
      await send({
        t: "error",
        code: "room_full",
        message: "general has 2000 members, the most a room can have",
        room: "general",
      });
    }
  }, async (client) => {
    let refusal: Error | null = null;
    await client.ready.catch((e) => refusal = e as Error);
    assert(refusal !== null, "ready was rejected");
    assert(
      (refusal as Error & { code?: string }).code === "room_full",
      `refused as room_full: ${refusal}`,
    );
  });
});

Deno.test("/join of a full room returns, the session goes on in its room", async () => {
  const me = await memberOf("alice");
  await withScriptedServer(async (frame, send) => {
    if (frame.t === "join" && frame.room === "general") {
      await send(joinedFrame("general", [me]));
    } else if (frame.t === "join") {
      await send({
        t: "error",
        code: "room_full",
        message: `${frame.room} has 2000 members`,
        room: frame.room,
      });
    }
  }, async (client, events) => {
    await client.ready;
    await client.join("big"); // returned: it did not wait forever
    assert(
      events.some((e) => e.type === "error" && /big has 2000/.test(e.message)),
      `the user is told: ${JSON.stringify(events)}`,
    );
    assert(!client.switchTo("big"), "big was not joined");
  });
});

Deno.test("a member with an unusable identity key is skipped with a warning, and the room still opens", async () => {
  const me = await memberOf("alice");
  const identityPoint = new Uint8Array(32);
  identityPoint[0] = 1;
  const weak = await memberOf("mallory", identityPoint);
  await withScriptedServer(async (frame, send) => {
    if (frame.t === "join") await send(joinedFrame("general", [me, weak]));
  }, async (client, events) => {
    await client.ready;
    assert(
      events.some((e) =>
        e.type === "error" && /ignoring mallory in general/.test(e.message) &&
        /small-order/.test(e.message)
      ),
      `the user is warned: ${JSON.stringify(events)}`,
    );
    assert(client.people.get("mallory") === undefined, "mallory not imported");
  });
});
