/**
 * The command runner against a small stand-in for the engine that records
 * what it was asked and answers as told: outcomes ("retain" when text was
 * refused), structured who/whois events, /query, /topic, /clear, and that
 * questions to the server are awaited.
 */
import {
  fingerprint,
  generateIdentity,
  type Identity,
  importEncryptKey,
  importVerifyKey,
} from "../shared/crypto/identity.ts";
import type { MessageKind } from "../shared/crypto/envelope.ts";
import type { MemberInfo, ModFrame } from "../shared/protocol.ts";
import { userKey } from "../shared/names.ts";
import { assert, assertEquals } from "../shared/_test_assert.ts";
import type { SendResult } from "./chat_client.ts";
import {
  type CommandClient,
  type CommandContext,
  handleInput,
} from "./command_runner.ts";
import { COMMAND_HELP } from "./commands.ts";
import type { ChatEvent, WhoEvent, WhoisEvent } from "./events.ts";
import { PeopleDirectory } from "./people.ts";
import { type Person, type RoomTopic, RoomView } from "./room_view.ts";
import { Transcript } from "./transcript.ts";
import { TrustStore } from "./trust_store.ts";

/** What the stand-in was asked, in order. */
type Call = (string | number | null)[];

/** The engine as the runner sees it, recording calls; answers are set per test. */
class FakeClient implements CommandClient {
  readonly calls: Call[] = [];
  readonly transcript = new Transcript();
  readonly people: PeopleDirectory;
  readonly rooms = new Map<string, RoomView>();
  readonly topics = new Map<string, RoomTopic>();
  currentRoom = "general";
  sendResult: SendResult = "queued";
  directRoom: string | null = "dm:alice:bob";
  /** Resolves the pending server question (/rooms, /motd, /load). */
  answer: (() => void) | null = null;

  constructor(trust: TrustStore) {
    this.people = new PeopleDirectory(trust);
    this.rooms.set("general", new RoomView("general"));
  }

  send(text: string, kind: MessageKind = "text", room = this.currentRoom) {
    this.calls.push(["send", text, kind, room]);
    return this.sendResult;
  }
  sendDirect(user: string, text: string): Promise<SendResult> {
    this.calls.push(["sendDirect", user, text]);
    return Promise.resolve(this.sendResult);
  }
  openDirect(user: string): Promise<string | null> {
    this.calls.push(["openDirect", user]);
    return Promise.resolve(this.directRoom);
  }
  switchTo(room: string): boolean {
    this.calls.push(["switchTo", room]);
    if (!this.rooms.has(room) && !room.startsWith("dm:")) return false;
    this.currentRoom = room;
    return true;
  }
  join(room: string): Promise<void> {
    this.calls.push(["join", room]);
    return Promise.resolve();
  }
  leave(room: string): void {
    this.calls.push(["leave", room]);
  }
  listRooms(): Promise<void> {
    this.calls.push(["listRooms"]);
    return this.#question();
  }
  moderate(frame: ModFrame): Promise<void> {
    this.calls.push(["moderate", frame.action]);
    return this.#question();
  }
  loadOlder(room: string, limit: number): Promise<number | null> {
    this.calls.push(["loadOlder", room, limit]);
    return this.#question().then(() => 0);
  }
  topic(room: string): RoomTopic | undefined {
    return this.topics.get(room);
  }
  room(name: string): RoomView | undefined {
    return this.rooms.get(name);
  }
  lookup(_user: string): Promise<MemberInfo | null> {
    return Promise.resolve(null);
  }
  rekeyRoomsWith(user: string): void {
    this.calls.push(["rekey", user]);
  }

  #question(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.answer = resolve;
    return promise;
  }
}

let alice: Identity | undefined;
/** Alice's identity, generated once (RSA key generation takes a second). */
async function aliceIdentity(): Promise<Identity> {
  return alice ??= await generateIdentity("alice");
}

async function setup(): Promise<
  { ctx: CommandContext; client: FakeClient; events: ChatEvent[] }
> {
  const trust = TrustStore.inMemory();
  const client = new FakeClient(trust);
  const events: ChatEvent[] = [];
  const ctx: CommandContext = {
    client,
    identity: await aliceIdentity(),
    trust,
    emit: (e) => events.push(e),
  };
  return { ctx, client, events };
}

/** A member of a room as the engine keeps them. */
async function personFor(id: Identity, online: boolean): Promise<Person> {
  return {
    user: id.user,
    key: userKey(id.user),
    identity: {
      user: id.user,
      uid: id.uid,
      idKey: id.idKey,
      encKey: id.encKey,
    },
    verifyKey: await importVerifyKey(id.idKey),
    encryptKey: await importEncryptKey(id.encKey),
    fingerprint: await fingerprint(id),
    online,
  };
}

// ---- outcomes ----------------------------------------------------------------

Deno.test("runner: text the engine refuses is retained for the input line; queued text is not", async () => {
  const { ctx, client } = await setup();
  assertEquals(await handleInput("hello", ctx), "continue");
  client.sendResult = "refused";
  assertEquals(await handleInput("x".repeat(10), ctx), "retain");
  assertEquals(await handleInput("/me waves", ctx), "retain");
  assertEquals(await handleInput("/msg bob hi", ctx), "retain");
  assertEquals(await handleInput("/topic too long", ctx), "retain");
  assertEquals(await handleInput("/query bob hi", ctx), "retain");
  assertEquals(await handleInput("/quit", ctx), "quit");
  assertEquals(await handleInput("", ctx), "continue");
});

// ---- questions to the server are awaited -------------------------------------

for (
  const line of ["/rooms", "/list", "/motd", "/load 5", "/allow-dm bob"]
) {
  Deno.test(`runner: ${line} resolves only once the server has answered`, async () => {
    const { ctx, client } = await setup();
    let done = false;
    const handled = handleInput(line, ctx).then((outcome) => {
      done = true;
      return outcome;
    });
    // one macrotask turn: every microtask a non-waiting handler needs has run
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert(client.answer !== null, `${line} asked the server nothing`);
    assertEquals(done, false, `${line} did not wait for the answer`);
    client.answer();
    assertEquals(await handled, "continue");
  });
}

Deno.test("runner: /allow-dm and /deny-dm send the server an allow_dm request", async () => {
  const { ctx, client } = await setup();
  const sent: unknown[] = [];
  client.moderate = (frame) => {
    sent.push(frame);
    return Promise.resolve();
  };
  await handleInput("/allow-dm bob", ctx);
  await handleInput("/deny-dm @bob", ctx);
  assertEquals(sent, [
    { t: "allow_dm", user: "bob", allow: true },
    { t: "allow_dm", user: "bob", allow: false },
  ]);
});

Deno.test("runner: /load prints no footer of its own (the history event heads the block)", async () => {
  const { ctx, client, events } = await setup();
  const handled = handleInput("/load 3", ctx);
  client.answer!();
  await handled;
  assertEquals(client.calls, [["loadOlder", "general", 3]]);
  assertEquals(events, []);
});

// ---- IRC habits ----------------------------------------------------------------

Deno.test("runner: /part leaves like /leave, the current room or the one named", async () => {
  const { ctx, client } = await setup();
  await handleInput("/part", ctx);
  await handleInput("/part #ops", ctx);
  assertEquals(client.calls, [["leave", "general"], ["leave", "ops"]]);
});

Deno.test("runner: /query USER TEXT opens the DM, switches to it and sends TEXT there", async () => {
  const { ctx, client, events } = await setup();
  assertEquals(await handleInput("/query bob hi there", ctx), "continue");
  assertEquals(client.calls, [
    ["openDirect", "bob"],
    ["switchTo", "dm:alice:bob"],
    ["send", "hi there", "text", "dm:alice:bob"],
  ]);
  assertEquals(client.currentRoom, "dm:alice:bob");
  assertEquals(events, [{ type: "system", message: "now talking in dm bob" }]);
});

Deno.test("runner: /query USER without text switches but sends nothing; a refused DM keeps typed text", async () => {
  const { ctx, client } = await setup();
  await handleInput("/query bob", ctx);
  assertEquals(client.calls.map((c) => c[0]), ["openDirect", "switchTo"]);
  client.directRoom = null; // e.g. no such user: the engine reported it
  assertEquals(await handleInput("/query nobody", ctx), "continue");
  assertEquals(await handleInput("/query nobody hello", ctx), "retain");
});

Deno.test("runner: /topic alone shows the current room's topic, or that none is set", async () => {
  const { ctx, client, events } = await setup();
  await handleInput("/topic", ctx);
  client.topics.set("general", {
    text: "release on Friday",
    from: "bob",
    ts: new Date(2024, 0, 2, 3, 4).getTime(),
    seq: 7,
  });
  await handleInput("/topic", ctx);
  assertEquals(events, [
    { type: "system", message: "no topic set in #general" },
    {
      type: "system",
      message:
        "topic of #general: release on Friday (set by bob, 2024-01-02 03:04)",
    },
  ]);
});

Deno.test("runner: /topic TEXT sends a topic message to the current room", async () => {
  const { ctx, client } = await setup();
  await handleInput("/topic release on Friday", ctx);
  assertEquals(client.calls, [[
    "send",
    "release on Friday",
    "topic",
    "general",
  ]]);
});

Deno.test("runner: /clear emits a clear event", async () => {
  const { ctx, events } = await setup();
  assertEquals(await handleInput("/clear", ctx), "continue");
  assertEquals(events, [{ type: "clear" }]);
});

Deno.test("runner: /join of a room already joined switches to it and names it with #", async () => {
  const { ctx, client, events } = await setup();
  client.currentRoom = "ops";
  await handleInput("/join #general", ctx);
  assertEquals(events, [{
    type: "system",
    message: "now talking in #general",
  }]);
  await handleInput("/join #new", ctx);
  assertEquals(client.calls.at(-1), ["join", "new"]);
});

Deno.test("runner: /help answers with the grouped command list", async () => {
  const { ctx, events } = await setup();
  await handleInput("/help", ctx);
  assertEquals(events, [{ type: "system", message: COMMAND_HELP }]);
});

// ---- structured answers --------------------------------------------------------

Deno.test("runner: /who and /names answer with a who event: fingerprints, online, trust from the trust store, you", async () => {
  const { ctx, client, events } = await setup();
  const [bob, carol, dave] = await Promise.all(
    ["bob", "carol", "dave"].map((u) => generateIdentity(u)),
  );
  const room = client.room("general")!;
  const people = await Promise.all([
    personFor(ctx.identity, true),
    personFor(bob!, false),
    personFor(carol!, true),
    personFor(dave!, true),
  ]);
  for (const p of people) room.applyRosterChange(room.roster, p.key, p);
  await ctx.trust.verify("bob", people[1]!.fingerprint);
  await ctx.trust.verify("dave", people[3]!.fingerprint);
  await ctx.trust.observe("dave", people[2]!.fingerprint); // dave's key changed
  await handleInput("/who", ctx);
  await handleInput("/names", ctx);
  const expected: WhoEvent = {
    type: "who",
    room: "general",
    members: people.map((p, i) => ({
      user: p.user,
      fingerprint: [...p.fingerprint.slice(0, 8)].map((b) =>
        b.toString(16).padStart(2, "0")
      ).join("").match(/.{4}/g)!.join(" "),
      online: p.online,
      trust: (["unverified", "verified", "unverified", "changed"] as const)[i]!,
      you: i === 0,
    })),
  };
  assertEquals(events, [expected, expected]);
});

Deno.test("runner: /whois answers with a whois event: full fingerprint, safety number, trust", async () => {
  const { ctx, client, events } = await setup();
  const bob = await personFor(await generateIdentity("bob"), true);
  const general = client.room("general")!;
  general.applyRosterChange(general.roster, bob.key, bob);
  await client.people.see({
    user: "bob",
    uid: bob.identity.uid,
    idKey: toB64(bob.identity.idKey),
    encKey: toB64(bob.identity.encKey),
    online: true,
  });
  await handleInput("/whois bob", ctx);
  await ctx.trust.verify("bob", bob.fingerprint);
  await handleInput("/whois @Bob", ctx);
  const [before, after] = events as WhoisEvent[];
  assertEquals(before!.type, "whois");
  assertEquals(before!.user, "bob");
  assertEquals(before!.trust, "unverified");
  assertEquals(before!.you, false);
  assert(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/.test(before!.fingerprint));
  assert(/^(\d{5} ){11}\d{5}$/.test(before!.safetyNumber));
  assertEquals(after, { ...before!, trust: "verified" });
});

Deno.test("runner: /whois of an unknown user is an error", async () => {
  const { ctx, events } = await setup();
  await handleInput("/whois nobody", ctx);
  assertEquals(events, [{ type: "error", message: "no user named nobody" }]);
});

function toB64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
}
