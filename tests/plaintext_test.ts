/**
 * The server never sees plaintext: a unique marker sent by clients (group
 * message and DM) appears nowhere in what the server received, stored or logged.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../shared/_test_assert.ts";
import {
  ClientProcess,
  disposableList,
  ServerProcess,
  tempDir,
} from "./_harness.ts";
import { toBase64Url } from "../shared/bytes.ts";

/** The marker as plain text and in every base64 alignment a lazy encoder could produce. */
function markerForms(marker: string): string[] {
  const bytes = new TextEncoder().encode(marker);
  const forms = [marker];
  for (let shift = 0; shift < 3; shift++) {
    const padded = new Uint8Array([...new Uint8Array(shift), ...bytes]);
    const b64url = toBase64Url(padded).slice(
      Math.ceil((shift * 4) / 3) + 1,
      -2,
    );
    const b64 = b64url.replaceAll("-", "+").replaceAll("_", "/");
    forms.push(b64url, b64);
  }
  return forms.filter((f) => f.length >= 12);
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await filesUnder(path));
    else if (entry.isFile) out.push(path);
  }
  return out;
}

function contains(haystack: Uint8Array, needle: string): boolean {
  // latin1 keeps a 1:1 byte mapping, so ASCII needles are found at any offset
  return new TextDecoder("latin1").decode(haystack).includes(needle);
}

Deno.test("a marker sent by clients never appears in anything the server received, stored or logged", async () => {
  await using dir = await tempDir("chat-marker-");
  const trace = join(dir.path, "received-frames.log");
  await using server = await ServerProcess.start({
    dir: dir.path,
    args: ["--trace-frames", trace],
  });
  await using clients = disposableList<ClientProcess>();
  const [alice, bob] = await ClientProcess.members(
    server,
    ["alice", "bob"],
    clients,
  ) as [ClientProcess, ClientProcess];
  const marker = `MARKER-${crypto.randomUUID()}-PLAINTEXT`;
  await alice.say(`group ${marker}`);
  await bob.waitFor((e) => e.text === `group ${marker}`, "the group message");
  await bob.send(`/msg alice dm ${marker}`);
  await alice.waitFor((e) => e.text === `dm ${marker}`, "the DM");
  await alice.send(`/me waves ${marker}`);
  await bob.waitFor(
    (e) => e.text === `waves ${marker}` && e.kind === "me",
    "the action",
  );
  // a history replay reads from the store: bob comes back and gets it all again
  assertEquals(await bob.end(), 0);
  const bobAgain = await ClientProcess.ready(server, "bob", {
    configHome: bob.configHome,
  });
  clients.push(bobAgain);
  await bobAgain.waitFor(
    (e) => e.history === true && e.text === `group ${marker}`,
    "the replay",
  );

  // While the server runs, the WAL holds the recent commits: scan it live.
  const forms = markerForms(marker);
  const live = await filesUnder(server.dataDir);
  assert(
    live.some((f) => f.endsWith("chat.db-wal")),
    `no WAL while running: ${live}`,
  );
  const wal = await Deno.readFile(
    live.find((f) => f.endsWith("chat.db-wal"))!,
  );
  assert(
    wal.length > 0 && contains(wal, '"t":"msg"') === false,
    "the WAL is in use",
  );
  for (const file of live) {
    const bytes = await Deno.readFile(file);
    for (const form of forms) {
      assert(
        !contains(bytes, form),
        `${file} (live) contains the marker as ${form}`,
      );
    }
  }

  for (const c of [alice, bobAgain]) assertEquals(await c.end(), 0);
  assertEquals(await server.stop(), 0);

  const files = await filesUnder(server.dataDir);
  assert(files.some((f) => f.endsWith("chat.db")), `no database in ${files}`);
  files.push(trace);
  const traced = await Deno.readFile(trace);
  // the trace is real: it holds the encrypted message frames the server received
  assert(
    contains(traced, '"t":"msg"') && contains(traced, '"ct":"'),
    "trace has message frames",
  );
  for (const file of files) {
    const bytes = await Deno.readFile(file);
    for (const form of forms) {
      assert(
        !contains(bytes, form),
        `${file} contains the marker as ${form}`,
      );
    }
  }
  for (const form of forms) {
    assert(
      !server.log.includes(form),
      `the server log contains the marker as ${form}`,
    );
  }
  // and the clients did see it, so the marker really was sent
  assert(alice.events.items.some((e) => String(e.text).includes(marker)));
});
