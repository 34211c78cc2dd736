/**
 * Rooms end to end: --room, /join, /rooms, /leave, exit, and a server
 * running on a certificate the operator brought (--cert/--key).
 */
import { join } from "node:path";
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { ClientProcess, ServerProcess, tempDir } from "./_harness.ts";
import { ensureLocalCertificates } from "../server/local_ca.ts";

Deno.test("clients talk in the room they chose and switch rooms with /join", async () => {
  await using server = await ServerProcess.start();
  await using alice = await ClientProcess.ready(server, "alice", {
    room: "#Ops",
  });
  assertEquals(alice.events.items[0]?.room, "ops");
  await using bob = await ClientProcess.ready(server, "bob"); // general
  await bob.send("/join #ops");
  await bob.waitFor(
    (e) =>
      e.type === "system" &&
      /now talking in #ops \(2 members\)/.test(String(e.message)),
    "joined ops",
  );
  await alice.waitFor(
    (e) => e.type === "join" && e.user === "bob" && e.room === "ops",
    "bob in ops",
  );
  const m = await bob.say("in ops now");
  assertEquals(m.room, "ops");
  const got = await alice.waitFor(
    (e) => e.text === "in ops now",
    "bob's message",
  );
  assertEquals(got.room, "ops");
  await alice.send("/rooms");
  const list = await alice.waitFor((e) => e.type === "rooms", "room list");
  assertEquals(list.rooms, [
    { room: "general", members: 1, joined: false, current: false },
    { room: "ops", members: 2, joined: true, current: true },
  ], "the room list as a structured JSON event");
  // a typo is a clear error, not a crash
  await alice.send("/jion #x");
  await alice.waitFor(
    (e) =>
      e.type === "error" && /unknown command \/jion/.test(String(e.message)),
    "unknown command",
  );
  await alice.send("exit");
  assertEquals(await alice.end(), 0);
  await bob.waitFor(
    (e) => e.type === "presence" && e.user === "alice" && e.online === false,
    "alice going offline",
  );
  assertEquals(await bob.end(), 0);
});

Deno.test("a server started with --cert and --key serves clients that trust its CA", async () => {
  await using own = await tempDir("chat-own-cert-");
  const files = await ensureLocalCertificates(own.path, ["chat.test"]);
  await using server = await ServerProcess.start({
    args: ["--cert", files.certPath, "--key", files.keyPath],
  });
  assert(
    !server.log.includes("local CA"),
    "no local CA is made or announced",
  );
  const exists = await Deno.stat(join(server.certsDir, "ca.pem")).then(
    () => true,
    () => false,
  );
  assertEquals(exists, false);
  await using alice = ClientProcess.start(server, "alice", {
    ca: files.caPath!,
  });
  await alice.waitFor((e) => e.type === "ready", "ready");
  await alice.say("over the operator's certificate");
  assertEquals(await alice.end(), 0);
});
