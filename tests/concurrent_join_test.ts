/**
 * Joins that race: many users join a room that does not exist yet, all at
 * once. Each join awaits its SQLite insert, so the joins interleave inside
 * the server; every one of them must end up in the one room in memory (in
 * the room list, and receiving presence), not only in the database.
 */
import { assertEquals } from "../shared/_test_assert.ts";
import { disposableList, ServerProcess } from "./_harness.ts";
import {
  connectAs,
  joinRoom,
  type RawConnection,
  rawIdentity,
} from "./_raw_client.ts";

Deno.test("concurrent first joins of a new room all land in the one room", async () => {
  await using server = await ServerProcess.start();
  await using conns = disposableList<RawConnection>();
  const users = Array.from({ length: 12 }, (_, i) => `racer${i}`);
  for (const user of users) {
    const conn = await connectAs(server, await rawIdentity(user));
    conn.startReading();
    conns.push(conn);
  }
  // every join is on the wire before the server has stored the first
  await Promise.all(conns.map((c) => c.send({ t: "join", room: "race" })));
  await Promise.all(
    conns.map((c) =>
      c.waitFor((f) => f.t === "joined" && f.room === "race", "joined race")
    ),
  );

  const late = await connectAs(server, await rawIdentity("late"));
  late.startReading();
  conns.push(late);
  const joined = await joinRoom(late, "race");
  assertEquals(
    (joined.members as unknown[]).length,
    users.length + 1,
    "the latecomer sees every racer in the roster",
  );
  // everyone who raced hears the latecomer: they are members in memory
  await Promise.all(
    conns.slice(0, users.length).map((c) =>
      c.waitFor(
        (f) =>
          f.t === "presence" && f.room === "race" && f.event === "join" &&
          f.user === "late",
        "presence of late",
      )
    ),
  );
  await late.send({ t: "list" });
  const list = await late.waitFor((f) => f.t === "rooms", "room list");
  const race = (list.rooms as { room: string; members: number }[])
    .find((r) => r.room === "race");
  assertEquals(race?.members, users.length + 1, "room list counts everyone");
});
