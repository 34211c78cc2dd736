/**
 * Storage faults: the server's data directory sits on a small tmpfs that the
 * test fills for real. The sender gets an error, never an acknowledgement;
 * live chat keeps running; sending works again once space returns, with no
 * restart.
 */
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import { ClientProcess, ServerProcess, tempDir } from "./_harness.ts";

async function run(
  cmd: string,
  args: string[],
): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { ok: out.success, text: new TextDecoder().decode(out.stderr) };
}

/** Write until the filesystem says it is full; returns the filler path. */
async function fill(dir: string): Promise<string> {
  const path = join(dir, "filler");
  using file = await Deno.open(path, { createNew: true, write: true });
  const chunk = new Uint8Array(64 * 1024);
  try {
    while (true) await file.write(chunk);
  } catch (error) {
    assert(
      /No space left|os error 28/i.test(String(error)),
      `expected ENOSPC, got ${error}`,
    );
  }
  return path;
}

Deno.test("a full disk gives the sender an error instead of an ack, and sending recovers when space returns", async () => {
  await using outer = await tempDir("chat-diskfull-");
  const mount = join(outer.path, "small");
  await Deno.mkdir(mount);
  const mounted = await run("mount", [
    "-t",
    "tmpfs",
    "-o",
    "size=8m",
    "tmpfs",
    mount,
  ]);
  if (!mounted.ok) {
    throw new Error(
      `this test needs to mount a tmpfs (run the tests as root, as CI does): ${mounted.text}`,
    );
  }
  await using unmount = new AsyncDisposableStack();
  unmount.defer(async () => {
    await run("umount", ["-l", mount]);
  });
  await using server = await ServerProcess.start({ dir: mount });
  const home = (user: string) => join(outer.path, `home-${user}`);
  await using alice = await ClientProcess.ready(server, "alice", {
    configHome: home("alice"),
  });
  await using bob = await ClientProcess.ready(server, "bob", {
    configHome: home("bob"),
  });
  await alice.waitFor(
    (e) => e.type === "join" && e.user === "bob",
    "bob joining",
  );
  await alice.say("before the disk filled");
  await bob.waitFor(
    (e) => e.text === "before the disk filled",
    "the first message",
  );

  const filler = await fill(mount);
  let failedText: string | null = null;
  for (let i = 0; i < 200 && failedText === null; i++) {
    const text = `while full ${i}`;
    const errorsBefore = alice.events.items.filter((e) =>
      e.type === "error"
    ).length;
    await alice.send(text);
    const outcome = await alice.waitFor(
      (e) =>
        (e.type === "message" && e.own === true && e.text === text) ||
        (e.type === "error" &&
          alice.events.items.filter((x) => x.type === "error").indexOf(e) >=
            errorsBefore),
      `an ack or an error for "${text}"`,
    );
    if (outcome.type === "error") {
      assertIncludes(String(outcome.message), "NOT delivered");
      failedText = text;
    }
  }
  assert(failedText !== null, "no send failed on a full disk");
  assertEquals(
    alice.events.items.some((e) => e.own === true && e.text === failedText),
    false,
    "the failed message was never acknowledged",
  );
  // the server log is written in batches: wait for the line
  await server.output.waitFor(
    (line) => line.includes("storage failure"),
    "the storage failure to be logged",
  );

  // live chat keeps running: the connection is up and commands are answered
  await bob.send("/rooms");
  await bob.waitFor(
    (e) => e.type === "rooms",
    "a live answer",
  );

  await Deno.remove(filler);
  await alice.say("after space returned");
  await bob.waitFor(
    (e) => e.text === "after space returned",
    "the message after recovery",
  );
  await bob.say("and bob too");
  await alice.waitFor(
    (e) => e.text === "and bob too",
    "bob's message after recovery",
  );
  assertEquals(bob.events.items.some((e) => e.text === failedText), false);

  // the client says honestly that something was not delivered
  assertEquals(await alice.end(), 1);
  assertIncludes(alice.stderr.items.join("\n"), "were not delivered");
  assertEquals(await bob.end(), 0);
});
