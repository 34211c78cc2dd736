/**
 * Durability under SIGKILL: clients stream messages while the server is
 * killed at random moments and restarted on the same data directory.
 * Every acknowledged message must be in history exactly once, in order, and
 * every client must end with the same history, without gaps or duplicates.
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { assert, assertEquals } from "../shared/_test_assert.ts";
import {
  ClientProcess,
  disposableList,
  ServerProcess,
  WAIT_MS,
} from "./_harness.ts";

/** A small seeded PRNG (mulberry32), so a failing run can be repeated. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pacing for the load generator (not synchronisation: nothing waits on it to be "done"). */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const PER_CLIENT = 60;
const KILLS = 4;

Deno.test("every acknowledged message survives SIGKILLs of the server exactly once, and all clients end with the same history", async () => {
  const seed = Number(
    Deno.env.get("CHAT_CRASH_SEED") ?? Date.now() % 1_000_000,
  );
  console.log(`crash test seed: ${seed} (set CHAT_CRASH_SEED to repeat)`);
  const random = prng(seed);
  await using first = await ServerProcess.start();
  const { dir, port } = first;
  // restarts on first's directory, which first removes once they are gone
  await using restarts = disposableList<ServerProcess>();
  await using clients = disposableList<ClientProcess>();
  let server = first;
  for (const user of ["alice", "bob", "carol"]) {
    clients.push(await ClientProcess.ready(server, user));
  }
  await clients[0]!.waitFor(
    (e) => e.type === "join" && e.user === "carol",
    "carol joining",
  );
  await clients[1]!.waitFor(
    (e) => e.type === "join" && e.user === "carol",
    "carol joining",
  );

  const sending = clients.map(async (c) => {
    for (let i = 0; i < PER_CLIENT; i++) {
      await c.send(`${c.user} ${i}`);
      await pause(10 + random() * 30);
    }
  });
  for (let k = 0; k < KILLS; k++) {
    await pause(150 + random() * 400);
    await server.kill();
    server = await ServerProcess.start({ dir, port });
    restarts.push(server);
  }
  await Promise.all(sending);
  const total = clients.length * PER_CLIENT;
  // Every client must have received every message before its input ends
  // (a client exits once its own messages are acknowledged).
  for (const c of clients) {
    await c.waitFor(
      () =>
        new Set(
          c.events.items.filter((e) => e.type === "message").map((e) => e.seq),
        ).size >= total,
      `all ${total} messages`,
      3 * WAIT_MS,
    );
  }

  // End of input: each client waits for every acknowledgement, then exits 0.
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const codes = await Promise.race([
    Promise.all(clients.map((c) => c.end())),
    new Promise<never>((_, reject) => {
      deadline = setTimeout(
        () =>
          reject(
            new Error(
              `clients did not finish:\n${
                clients.map((c) =>
                  `--- ${c.user}: ${c.stderr.items.slice(-15).join("\n")}\n${
                    c.events.items.slice(-8).map((e) => JSON.stringify(e))
                      .join("\n")
                  }`
                ).join("\n")
              }\n--- server:\n${server.log.split("\n").slice(-30).join("\n")}`,
            ),
          ),
        3 * WAIT_MS,
      );
    }),
  ]).finally(() => clearTimeout(deadline));
  assertEquals(codes, [0, 0, 0]);

  const views = clients.map((c) => {
    const bySeq = new Map<number, string>();
    for (const e of c.events.items) {
      if (e.type !== "message") continue;
      assert(
        !bySeq.has(e.seq!),
        `${c.user} saw seq ${e.seq} twice: ${
          JSON.stringify(c.events.items.filter((x) => x.seq === e.seq))
        }`,
      );
      bySeq.set(e.seq!, `${e.from}: ${e.text}`);
    }
    const own = c.events.items.filter((e) => e.type === "message" && e.own)
      .map((e) => e.text);
    assertEquals(
      [...own].sort(),
      Array.from({ length: PER_CLIENT }, (_, i) => `${c.user} ${i}`).sort(),
      `${c.user}'s acknowledged messages`,
    );
    return bySeq;
  });
  for (const [i, view] of views.entries()) {
    assertEquals(
      [...view.keys()].sort((a, b) => a - b),
      Array.from({ length: total }, (_, j) => j + 1),
      `${clients[i]!.user} has every seq from 1 to ${total}`,
    );
    assertEquals(
      [...view.entries()].sort(([a], [b]) => a - b),
      [...views[0]!.entries()].sort(([a], [b]) => a - b),
      `${clients[i]!.user} and ${clients[0]!.user} have the same history`,
    );
  }
  // per-sender order is kept: each sender's messages appear in the order sent
  for (const c of clients) {
    const order = [...views[0]!.entries()].sort(([a], [b]) => a - b)
      .map(([, text]) => text).filter((t) => t.startsWith(`${c.user}: `));
    assertEquals(
      order,
      Array.from(
        { length: PER_CLIENT },
        (_, i) => `${c.user}: ${c.user} ${i}`,
      ),
    );
  }

  assertEquals(await server.stop(), 0);
  using db = new DatabaseSync(join(server.dataDir, "chat.db"));
  assertEquals(
    (db.prepare("PRAGMA integrity_check").get() as Record<string, string>)
      .integrity_check,
    "ok",
  );
  const stats = db.prepare(
    "SELECT COUNT(*) AS n, MAX(seq) AS top, COUNT(DISTINCT msg_id) AS ids FROM messages WHERE room = 'general'",
  ).get() as { n: number; top: number; ids: number };
  assertEquals(stats, { n: total, top: total, ids: total });
});
