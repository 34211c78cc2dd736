/**
 * A hub over a real SQLite store in a temp dir, for in-process tests, with
 * sessions whose frame sinks record what they are sent (the sink is the
 * seam to the socket; a test decides when a send queue is full and when it
 * drains). Test-only: nothing outside `*_test.ts` imports it.
 * @module
 */
import { join } from "node:path";
import { fromUtf8 } from "../shared/bytes.ts";
import { FRAME_HEADER_BYTES } from "../shared/codec.ts";
import type { FrameSink } from "../shared/framed_connection.ts";
import type { ServerFrame } from "../shared/protocol.ts";
import { ChatHub, type HubSession } from "./hub.ts";
import type { HubOptions } from "./hub_state.ts";
import { SqliteHistoryStore } from "./store/sqlite_store.ts";

/** A sink that records frames; while `full`, big frames wait for drain(). */
export class RecordingSink implements FrameSink {
  frames: ServerFrame[] = [];
  queuedBytes = 0;
  full = false;
  #drained = Promise.withResolvers<void>();
  #drainCalled = Promise.withResolvers<void>();

  send(bytes: Uint8Array): boolean {
    this.frames.push(JSON.parse(fromUtf8(bytes.subarray(FRAME_HEADER_BYTES))));
    return true;
  }

  fits(): boolean {
    return !this.full;
  }

  drain(): Promise<void> {
    this.#drainCalled.resolve();
    return this.#drained.promise;
  }

  /** Resolves once someone waits for this queue to drain. */
  waitedOn(): Promise<void> {
    return this.#drainCalled.promise;
  }

  /** The queue emptied: waiters go on. */
  release(): void {
    this.full = false;
    this.#drained.resolve();
  }

  close(): void {}
}

/** Register `name` with random keys and attach a recording session for it. */
export type Login = (name: string) => Promise<HubSession>;

/**
 * Run `body` with a fresh hub (options over relaxed test defaults) and a
 * way to log users in; the store is closed and its directory removed after.
 */
export async function withHub(
  options: Partial<HubOptions>,
  body: (hub: ChatHub, login: Login) => Promise<void>,
  Store: typeof SqliteHistoryStore = SqliteHistoryStore,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-hub-" });
  const store = new Store(join(dir, "chat.db"));
  try {
    const hub = await ChatHub.open(store, {
      maxTextBytes: 8192,
      maxQueueBytes: 1 << 20,
      rateBurst: 100,
      ratePerSecond: 100,
      ops: new Set(),
      inviteOnly: false,
      log: () => {},
      ...options,
    });
    const login = async (name: string): Promise<HubSession> => {
      const user = await hub.registry.claim({
        user: name,
        uid: crypto.randomUUID(),
        idKey: crypto.getRandomValues(new Uint8Array(32)),
        encKey: crypto.getRandomValues(new Uint8Array(64)),
      });
      const session: HubSession = {
        id: crypto.randomUUID(),
        user,
        fingerprint: name,
        sink: new RecordingSink(),
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

/** The frames a session made by withHub's login was sent. */
export function framesOf(session: HubSession): ServerFrame[] {
  return (session.sink as RecordingSink).frames;
}
