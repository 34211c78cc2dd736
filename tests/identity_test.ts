/**
 * End-to-end identity: name ownership, key file permissions, safety numbers,
 * and what happens when someone's key changes.
 */
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import {
  ClientProcess,
  disposableList,
  runChat,
  ServerProcess,
  tempDir,
} from "./_harness.ts";

Deno.test("a second key claiming an existing name is refused and the client exits 1", async () => {
  await using server = await ServerProcess.start();
  await using alice = await ClientProcess.ready(server, "alice");
  await using impostor = ClientProcess.start(server, "alice", {
    configHome: join(server.dir, "impostor-home"),
  });
  assertEquals(await impostor.end(), 1);
  const stderr = impostor.stderr.items.join("\n");
  assertIncludes(stderr, "registered to another key");
  assertIncludes(
    stderr,
    "chat: hint: that name belongs to another key on this server; pick another --user",
  );
  await assertNoKeys(impostor.configHome);
  // so is a look-alike of the name, and it keeps no keys either
  await using lookalike = ClientProcess.start(server, "a1ice", {
    configHome: join(server.dir, "lookalike-home"),
  });
  assertEquals(await lookalike.end(), 1);
  const lookalikeErr = lookalike.stderr.items.join("\n");
  assertIncludes(lookalikeErr, "too similar");
  assertIncludes(lookalikeErr, "pick another --user");
  assert(!lookalikeErr.includes("created keys"), lookalikeErr);
  await assertNoKeys(lookalike.configHome);
  // the real alice still works
  await alice.say("still me");
  assertEquals(await alice.end(), 0);
});

/** No key file at all (not even a pending one) under `configHome`. */
async function assertNoKeys(configHome: string): Promise<void> {
  const keys = join(configHome, "chat", "keys");
  const files = await Array.fromAsync(Deno.readDir(keys)).catch(() => []);
  assertEquals(files.map((f) => f.name), [], `key files in ${keys}`);
}

Deno.test("key files are created 0600 in a 0700 directory, and a readable key file is refused", async () => {
  await using dir = await tempDir("chat-keys-");
  const home = dir.path;
  const first = await runChat(["id", "--user", "dora", "--create"], {
    env: { XDG_CONFIG_HOME: home },
  });
  assertEquals(first.code, 0, first.stderr);
  assert(/^dora( [0-9a-f]{4}){16}$/.test(first.stdout.trim()), first.stdout);
  const keyFile = join(home, "chat", "keys", "dora.json");
  assertEquals((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
  assertEquals(
    (await Deno.stat(join(home, "chat", "keys"))).mode! & 0o777,
    0o700,
  );
  // the same key is used the second time
  const again = await runChat(["id", "--user", "dora"], {
    env: { XDG_CONFIG_HOME: home },
  });
  assertEquals(again.stdout, first.stdout);
  assertEquals(again.stderr, "");
  await Deno.chmod(keyFile, 0o644);
  const refused = await runChat(["id", "--user", "dora"], {
    env: { XDG_CONFIG_HOME: home },
  });
  assertEquals(refused.code, 1);
  assertIncludes(refused.stderr, "can be read by other users");
  assertIncludes(refused.stderr, `chmod 600 ${keyFile}`);
});

Deno.test("/whois shows a safety number both sides agree on, and /verify accepts only the right one", async () => {
  await using server = await ServerProcess.start();
  await using clients = disposableList<ClientProcess>();
  const [alice, bob] = await ClientProcess.members(
    server,
    ["alice", "bob"],
    clients,
  ) as [ClientProcess, ClientProcess];
  await alice.send("/whois bob");
  const aliceView = await alice.waitFor(
    (e) => e.type === "whois" && e.user === "bob",
    "whois",
  );
  await bob.send("/whois alice");
  const bobView = await bob.waitFor(
    (e) => e.type === "whois" && e.user === "alice",
    "whois",
  );
  const n = String(aliceView.safetyNumber);
  assert(/^(\d{5} ){11}\d{5}$/.test(n), n);
  assertEquals(bobView.safetyNumber, n);
  assertEquals(aliceView.trust, "unverified");
  const wrong = n.slice(0, -1) + (n.endsWith("0") ? "1" : "0");
  await alice.send(`/verify bob ${wrong}`);
  await alice.waitFor(
    (e) => e.type === "error" && /does NOT match/.test(String(e.message)),
    "mismatch error",
  );
  await alice.send(`/verify bob ${n}`);
  await alice.waitFor(
    (e) => e.type === "system" && e.message === "bob is now verified",
    "verified",
  );
  await alice.send("/who");
  const who = await alice.waitFor(
    (e) => e.type === "who" && e.room === "general",
    "/who",
  );
  const members = who.members as {
    user: string;
    fingerprint: string;
    online: boolean;
    trust: string;
  }[];
  assertEquals(members.length, 2);
  const listed = members.find((m) => m.user === "bob");
  assert(listed, JSON.stringify(members));
  assertEquals([listed.online, listed.trust], [true, "verified"]);
  assert(/^[0-9a-f ]+$/.test(listed.fingerprint), listed.fingerprint);
  for (const c of clients) assertEquals(await c.end(), 0);
});

Deno.test("a changed key raises a warning, and a verified contact whose key changed gets nothing encrypted", async () => {
  await using server = await ServerProcess.start();
  await using alice = await ClientProcess.ready(server, "alice");
  await using bob = await ClientProcess.ready(server, "bob");
  await alice.send("/whois bob");
  const view = await alice.waitFor(
    (e) => e.type === "whois" && e.user === "bob",
    "whois",
  );
  const n = String(view.safetyNumber);
  await alice.send(`/verify bob ${n}`);
  await alice.waitFor((e) => e.message === "bob is now verified", "verified");
  assertEquals(await alice.end(), 0);
  assertEquals(await bob.end(), 0);
  // The server is reset (or malicious): its registry forgets bob, and a new
  // key registers as bob. Same CA, new data directory.
  await server.stop();
  await Deno.remove(server.dataDir, { recursive: true });
  const certsDir = server.certsDir;
  const dir = server.dir;
  await using reset = await ServerProcess.start({ dir });
  assertEquals(reset.certsDir, certsDir);
  await using newBob = await ClientProcess.ready(reset, "bob", {
    configHome: join(dir, "new-bob-home"),
  });
  await using alice2 = await ClientProcess.ready(reset, "alice", {
    configHome: alice.configHome,
  });
  const warning = await alice2.waitFor(
    (e) => e.type === "system" && e.warning === true,
    "the key-change warning",
  );
  assertIncludes(String(warning.message), "the key of bob");
  assertIncludes(String(warning.message), "CHANGED");
  await alice2.say("not for the new bob");
  await alice2.waitFor(
    (e) =>
      e.type === "system" && /not encrypting to bob/.test(String(e.message)),
    "the exclusion notice",
  );
  const refused = await newBob.waitFor(
    (e) =>
      e.type === "error" &&
      /cannot decrypt a message from alice/.test(String(e.message)),
    "an undecryptable message",
  );
  assert(refused);
  assertEquals(newBob.received().length, 0);
  for (const c of [newBob, alice2]) assertEquals(await c.end(), 0);
});
