/**
 * Reconnecting: a cut connection and a restarted server. Whatever was missed
 * arrives exactly once; whatever was typed while disconnected is sent
 * exactly once.
 */
import { assertEquals } from "../shared/_test_assert.ts";
import {
  type ClientEvent,
  ClientProcess,
  disposableList,
  ServerProcess,
} from "./_harness.ts";
import { TcpProxy } from "./_proxy.ts";

function count(
  client: ClientProcess,
  match: (e: ClientEvent) => boolean,
): number {
  return client.events.items.filter(match).length;
}

Deno.test("a client whose connection is cut gets everything it missed exactly once and sends what it queued exactly once", async () => {
  await using server = await ServerProcess.start();
  await using proxy = TcpProxy.start(server.port);
  await using alice = await ClientProcess.ready(server, "alice", {
    server: proxy.address,
  });
  await using bob = await ClientProcess.ready(server, "bob");
  await using carol = await ClientProcess.ready(server, "carol");
  await alice.waitFor(
    (e) => e.type === "join" && e.user === "carol",
    "carol joining",
  );
  await bob.say("before the cut");
  await alice.waitFor(
    (e) => e.text === "before the cut",
    "the first message",
  );

  await proxy.cut();
  await alice.waitFor(
    (e) => e.type === "system" && /^disconnected/.test(String(e.message)),
    "the disconnect",
  );
  const missed: string[] = [];
  for (let i = 0; i < 5; i++) {
    for (const c of [bob, carol]) {
      const text = `missed ${c.user} ${i}`;
      await c.say(text);
      missed.push(text);
    }
  }
  const queued = ["typed offline 1", "typed offline 2", "typed offline 3"];
  for (const text of queued) await alice.send(text);
  await alice.waitFor(
    (e) =>
      e.type === "system" &&
      /message queued \(3 waiting\)/.test(String(e.message)),
    "queueing",
  );

  proxy.restore();
  await alice.waitFor(
    (e) => e.type === "system" && e.message === "reconnected",
    "reconnecting",
  );
  for (const text of missed) {
    const got = await alice.waitFor(
      (e) => e.text === text,
      `missed message ${text}`,
    );
    assertEquals(got.history, false);
  }
  for (const text of queued) {
    await alice.waitFor(
      (e) => e.own === true && e.text === text,
      `ack of ${text}`,
    );
    await bob.waitFor((e) => e.text === text, `bob receiving ${text}`);
    await carol.waitFor((e) => e.text === text, `carol receiving ${text}`);
  }
  // barrier, then exact counts
  await bob.say("after the reconnect");
  await alice.waitFor((e) => e.text === "after the reconnect", "the barrier");
  await carol.waitFor((e) => e.text === "after the reconnect", "the barrier");
  for (const text of [...missed, "before the cut", "after the reconnect"]) {
    assertEquals(
      count(alice, (e) => e.type === "message" && e.text === text),
      1,
      text,
    );
  }
  for (const text of queued) {
    assertEquals(
      count(alice, (e) => e.type === "message" && e.text === text),
      1,
      text,
    );
    assertEquals(
      count(bob, (e) => e.type === "message" && e.text === text),
      1,
      text,
    );
    assertEquals(
      count(carol, (e) => e.type === "message" && e.text === text),
      1,
      text,
    );
  }
  // the seqs alice saw are contiguous
  const seqs = alice.events.items.filter((e) => e.type === "message").map((
    e,
  ) => e.seq!)
    .sort((a, b) => a - b);
  assertEquals(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1));
  for (const c of [alice, bob, carol]) assertEquals(await c.end(), 0);
});

Deno.test("clients ride out a server restart: told of the shutdown, reconnected, nothing lost", async () => {
  await using server = await ServerProcess.start();
  await using clients = disposableList<ClientProcess>();
  const [alice, bob] = await ClientProcess.members(
    server,
    ["alice", "bob"],
    clients,
  ) as [ClientProcess, ClientProcess];
  await alice.say("before the restart");
  await bob.waitFor(
    (e) => e.text === "before the restart",
    "the first message",
  );
  // SIGTERM: a clean stop exits 0; the 5-second hard stop would exit 1
  assertEquals(await server.stop(), 0);
  await alice.waitFor(
    (e) => e.type === "system" && /shutting down/.test(String(e.message)),
    "the shutdown notice",
  );
  await bob.waitFor(
    (e) => e.type === "system" && /^disconnected/.test(String(e.message)),
    "the disconnect",
  );
  await alice.send("sent while the server was down");
  // on the same directory and port; disposing `server` removes the directory
  await using _restarted = await ServerProcess.start({
    dir: server.dir,
    port: server.port,
  });
  await alice.waitFor(
    (e) => e.own === true && e.text === "sent while the server was down",
    "the ack after restart",
  );
  const got = await bob.waitFor(
    (e) => e.text === "sent while the server was down",
    "the message after restart",
  );
  assertEquals(got.history, false);
  await bob.say("and back");
  await alice.waitFor((e) => e.text === "and back", "the reply");
  assertEquals(count(bob, (e) => e.text === "before the restart"), 1);
  assertEquals(
    count(alice, (e) => e.text === "sent while the server was down"),
    1,
  );
  for (const c of clients) assertEquals(await c.end(), 0);
});
