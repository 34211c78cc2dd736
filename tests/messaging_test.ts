/**
 * End-to-end messaging with a real server and three real clients over TLS.
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { ClientProcess, disposableList, ServerProcess } from "./_harness.ts";
import { importIdentity } from "../shared/crypto/identity.ts";
import { unwrapSenderKey } from "../shared/crypto/sender_key.ts";

function countMessages(client: ClientProcess, text: string): number {
  return client.events.items.filter((e) =>
    e.type === "message" && e.text === text
  )
    .length;
}

Deno.test("group messages arrive exactly once with the right sender, and own messages echo once", async () => {
  await using server = await ServerProcess.start();
  await using clients = disposableList<ClientProcess>();
  await ClientProcess.members(server, ["alice", "bob", "carol"], clients);
  const texts = new Map<ClientProcess, string>();
  for (const c of clients) {
    texts.set(c, `hello from ${c.user} ${crypto.randomUUID()}`);
  }
  await Promise.all(clients.map((c) => c.say(texts.get(c)!)));
  for (const receiver of clients) {
    for (const sender of clients) {
      if (receiver === sender) continue;
      const text = texts.get(sender)!;
      const got = await receiver.waitFor(
        (e) => e.type === "message" && e.text === text,
        `${sender.user}'s message`,
      );
      assertEquals(got.from, sender.user);
      assertEquals(got.own, false);
      assertEquals(got.room, "general");
      assertEquals(got.history, false);
    }
  }
  // a final barrier message from each makes late duplicates visible
  await Promise.all(clients.map((c) => c.say(`barrier ${c.user}`)));
  for (const receiver of clients) {
    for (const sender of clients) {
      if (receiver !== sender) {
        await receiver.waitFor(
          (e) => e.text === `barrier ${sender.user}`,
          "barrier",
        );
      }
    }
    for (const sender of clients) {
      assertEquals(countMessages(receiver, texts.get(sender)!), 1);
    }
    assertEquals(
      receiver.events.items.filter((e) => e.type === "error").length,
      0,
    );
  }
  for (const c of clients) assertEquals(await c.end(), 0);
});

Deno.test("a direct message reaches its recipient only, and a non-member gets nothing of it", async () => {
  await using server = await ServerProcess.start();
  await using clients = disposableList<ClientProcess>();
  const [alice, bob, carol] = await ClientProcess.members(
    server,
    ["alice", "bob", "carol"],
    clients,
  ) as [ClientProcess, ClientProcess, ClientProcess];
  const secret = `for bob only ${crypto.randomUUID()}`;
  await alice.send(`/msg bob ${secret}`);
  const ack = await alice.waitFor(
    (e) => e.own === true && e.text === secret,
    "DM ack",
  );
  assertEquals(ack.room, "dm:alice:bob");
  const got = await bob.waitFor((e) => e.text === secret, "the DM");
  assertEquals(got.from, "alice");
  assertEquals(got.room, "dm:alice:bob");
  // bob answers in the same DM room: ordering barrier for carol comes after
  await bob.send(`/msg alice reply ${secret}`);
  await alice.waitFor((e) => e.text === `reply ${secret}`, "the reply");
  await alice.say("barrier after the DM");
  await carol.waitFor(
    (e) => e.text === "barrier after the DM",
    "the barrier",
  );
  assert(
    carol.events.items.every((e) => !String(e.room ?? "").startsWith("dm:")),
    `carol saw something of the DM: ${JSON.stringify(carol.events.items)}`,
  );
  assertEquals(countMessages(bob, secret), 1);
  for (const c of clients) assertEquals(await c.end(), 0);
});

Deno.test("members see join and leave notices", async () => {
  await using server = await ServerProcess.start();
  await using alice = await ClientProcess.ready(server, "alice");
  await using bob = await ClientProcess.ready(server, "bob");
  const join = await alice.waitFor(
    (e) => e.type === "join",
    "bob's join notice",
  );
  assertEquals(join, { type: "join", room: "general", user: "bob" });
  await bob.send("/leave");
  const leave = await alice.waitFor(
    (e) => e.type === "leave",
    "bob's leave notice",
  );
  assertEquals(leave, { type: "leave", room: "general", user: "bob" });
  await bob.waitFor(
    (e) => e.type === "system" && /you left #general/.test(String(e.message)),
    "bob's own leave",
  );
  for (const c of [alice, bob]) assertEquals(await c.end(), 0);
});

Deno.test("after someone leaves, what is sent next is not encrypted to them and their key cannot open it", async () => {
  await using server = await ServerProcess.start();
  await using clients = disposableList<ClientProcess>();
  const [alice, bob, carol] = await ClientProcess.members(
    server,
    ["alice", "bob", "carol"],
    clients,
  ) as [ClientProcess, ClientProcess, ClientProcess];
  await alice.say("before bob leaves");
  await bob.waitFor(
    (e) => e.text === "before bob leaves",
    "the first message",
  );
  await bob.send("/leave");
  await alice.waitFor(
    (e) => e.type === "leave" && e.user === "bob",
    "bob leaving",
  );
  const after = `after bob left ${crypto.randomUUID()}`;
  const ack = await alice.say(after);
  await carol.waitFor((e) => e.text === after, "the message after bob left");
  assertEquals(await bob.end(), 0);
  assertEquals(countMessages(bob, after), 0);

  // Look at what the server stored: the message after the leave is under a
  // new epoch whose wraps do not include bob, and bob's private key opens none of them.
  using db = new DatabaseSync(join(server.dataDir, "chat.db"), {
    readOnly: true,
  });
  const row = db.prepare(
    "SELECT sender, epoch FROM messages WHERE room = 'general' AND seq = ?",
  ).get(ack.seq!) as { sender: string; epoch: number };
  const before = db.prepare(
    "SELECT epoch FROM messages WHERE room = 'general' AND seq = 1",
  ).get() as { epoch: number };
  assert(
    row.epoch > before.epoch,
    "alice rotated her key after the roster changed",
  );
  const wraps = db.prepare(
    "SELECT recipient, roster, wrap, sig FROM sender_keys WHERE room = 'general' AND sender = ? AND epoch = ?",
  ).all(row.sender, row.epoch) as {
    recipient: string;
    roster: number;
    wrap: string;
    sig: string;
  }[];
  assertEquals(wraps.map((w) => w.recipient).sort(), ["alice", "carol"]);
  const bobKeys = await importIdentity(
    JSON.parse(
      await Deno.readTextFile(
        join(bob.configHome, "chat", "keys", "bob.json"),
      ),
    ),
  );
  const aliceKeys = await importIdentity(
    JSON.parse(
      await Deno.readTextFile(
        join(alice.configHome, "chat", "keys", "alice.json"),
      ),
    ),
  );
  for (const w of wraps) {
    let opened = false;
    try {
      await unwrapSenderKey(
        {
          room: "general",
          from: "alice",
          epoch: row.epoch,
          roster: w.roster,
          wrap: w.wrap,
          sig: w.sig,
        },
        { user: "bob", decryptKey: bobKeys.decryptKey },
        aliceKeys.verifyKey,
      );
      opened = true;
    } catch {
      // expected: the wrap is bound to another recipient and key
    }
    assert(!opened, `bob opened the wrap addressed to ${w.recipient}`);
  }
  for (const c of [alice, carol]) assertEquals(await c.end(), 0);
});
