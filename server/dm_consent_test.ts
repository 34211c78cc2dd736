/**
 * Who may open a DM with whom: people who share a room, people the
 * recipient /allow-dm'd, anyone on a server with --open-dms.
 */
import { join } from "node:path";
import { assertEquals, assertRejects } from "../shared/_test_assert.ts";
import { fromUtf8 } from "../shared/bytes.ts";
import { FRAME_HEADER_BYTES } from "../shared/codec.ts";
import { ProtocolError } from "../shared/errors.ts";
import { dmParticipants } from "../shared/names.ts";
import type { ServerFrame } from "../shared/protocol.ts";
import { ChatHub, type HubSession } from "./hub.ts";
import { SqliteHistoryStore } from "./store/sqlite_store.ts";

type Login = (name: string) => Promise<HubSession>;

async function withHub(
  openDms: boolean,
  body: (hub: ChatHub, login: Login) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-dm-" });
  const store = new SqliteHistoryStore(join(dir, "chat.db"));
  try {
    const hub = await ChatHub.open(store, {
      maxTextBytes: 8192,
      maxQueueBytes: 1 << 20,
      rateBurst: 100,
      ratePerSecond: 100,
      ops: new Set(),
      inviteOnly: false,
      openDms,
      log: () => {},
    });
    const login = async (name: string): Promise<HubSession> => {
      const user = await hub.registry.claim({
        user: name,
        uid: crypto.randomUUID(),
        idKey: crypto.getRandomValues(new Uint8Array(32)),
        encKey: crypto.getRandomValues(new Uint8Array(64)),
      });
      const frames: ServerFrame[] = [];
      const session: HubSession = {
        id: crypto.randomUUID(),
        user,
        fingerprint: name,
        sink: {
          send: (bytes: Uint8Array) => {
            frames.push(
              JSON.parse(fromUtf8(bytes.subarray(FRAME_HEADER_BYTES))),
            );
            return true;
          },
          fits: () => true,
          drain: () => Promise.resolve(),
          close: () => {},
          queuedBytes: 0,
          frames,
        } as unknown as HubSession["sink"],
        sentKeys: new Set(),
        joinedRooms: new Set(),
      };
      await hub.attach(session);
      return session;
    };
    await body(hub, login);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function framesOf(s: HubSession): ServerFrame[] {
  return (s.sink as unknown as { frames: ServerFrame[] }).frames;
}

function dmJoined(s: HubSession): boolean {
  return framesOf(s).some((f) =>
    f.t === "joined" && dmParticipants(f.room) !== null
  );
}

Deno.test("a stranger cannot pull someone into a DM: dm_refused, and nobody joins", async () => {
  await withHub(false, async (hub, login) => {
    const mallory = await login("mallory");
    const alice = await login("alice");
    const error = await assertRejects(
      () => Promise.resolve(hub.handle(mallory, { t: "dm", user: "alice" })),
      ProtocolError,
    );
    assertEquals(error.code, "dm_refused");
    assertEquals(dmJoined(alice) || dmJoined(mallory), false);
  });
});

Deno.test("people who share a room may open a DM", async () => {
  await withHub(false, async (hub, login) => {
    const bob = await login("bob");
    const alice = await login("alice");
    await hub.handle(bob, { t: "join", room: "general" });
    await hub.handle(alice, { t: "join", room: "general" });
    await hub.handle(bob, { t: "dm", user: "alice" });
    assertEquals(dmJoined(alice), true);
  });
});

Deno.test("/allow-dm lets one stranger in; /deny-dm takes it back", async () => {
  await withHub(false, async (hub, login) => {
    const carol = await login("carol");
    const alice = await login("alice");
    await hub.handle(alice, { t: "allow_dm", user: "carol", allow: true });
    assertEquals(framesOf(alice).at(-1)?.t, "notice");
    await hub.handle(carol, { t: "dm", user: "alice" });
    assertEquals(dmJoined(alice), true);
    const dave = await login("dave");
    await hub.handle(alice, { t: "allow_dm", user: "dave", allow: true });
    await hub.handle(alice, { t: "allow_dm", user: "dave", allow: false });
    await assertRejects(
      () => Promise.resolve(hub.handle(dave, { t: "dm", user: "alice" })),
      ProtocolError,
      "has not allowed DMs",
    );
  });
});

Deno.test("--open-dms keeps the old rule: anyone may open a DM with anyone", async () => {
  await withHub(true, async (hub, login) => {
    const mallory = await login("mallory");
    const alice = await login("alice");
    await hub.handle(mallory, { t: "dm", user: "alice" });
    assertEquals(dmJoined(alice), true);
  });
});
