/**
 * The interactive client in a real terminal: `chat join` runs inside tmux
 * (a private server), keys are typed with `send-keys` and the screen is read
 * with `capture-pane`, while real JSON clients talk to it over real TLS.
 */
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { ClientProcess, ServerProcess } from "./_harness.ts";
import { frame, startInteractive } from "./_tmux.ts";

const PROMPT = "#general> ";

/** Index of the last row with something on it (the input line). */
function lastRow(rows: string[]): number {
  return rows.findLastIndex((r) => r.trim() !== "");
}

/** Rows showing a live message `<from> text` exactly (time stamp first). */
function messageRows(rows: string[], from: string, text: string): number[] {
  const pattern = new RegExp(
    `^\\d\\d:\\d\\d <${from}> ${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`,
  );
  return rows.flatMap((r, i) => pattern.test(r.trimEnd()) ? [i] : []);
}

function fromAlice(client: ClientProcess, text: string): number {
  return client.received().filter((e) => e.from === "alice" && e.text === text)
    .length;
}

Deno.test("the interactive client keeps a half-typed line intact while messages arrive above it", async () => {
  await using server = await ServerProcess.start();
  await using bob = await ClientProcess.ready(server, "bob");
  await using carol = await ClientProcess.ready(server, "carol");
  await using tmux = await startInteractive(server, "alice");
  // alice is a member for both senders before they send, or she misses it by design
  await bob.waitFor((e) => e.type === "join" && e.user === "alice", "alice");
  await carol.waitFor(
    (e) => e.type === "join" && e.user === "alice",
    "alice",
  );

  const partial = "half typed words";
  await tmux.sendKeys(partial);
  await tmux.waitForScreen(
    (rows) => rows[lastRow(rows)] === PROMPT + partial,
    "the half-typed line on the prompt",
  );

  const sent: [ClientProcess, string][] = [
    [bob, "first from bob"],
    [bob, "second from bob"],
    [bob, "third from bob"],
    [carol, "hello from carol"],
  ];
  for (const [sender, text] of sent) await sender.say(text);
  // a capture can land halfway through one redraw, so wait for the
  // settled screen: every message shown and the input line redrawn whole
  const rows = await tmux.waitForScreen(
    (rows) =>
      sent.every(([c, text]) => messageRows(rows, c.user, text).length > 0) &&
      rows[lastRow(rows)] === PROMPT + partial,
    "all four messages on alice's screen above the intact input line",
  );

  const screen = `\n${frame(rows)}`;
  const input = lastRow(rows);
  assertEquals(rows[input], PROMPT + partial, `the input line${screen}`);
  assertEquals(
    await tmux.cursor(),
    { x: (PROMPT + partial).length, y: input },
    `the cursor after the half-typed text${screen}`,
  );
  const at = sent.map(([c, text]) => {
    const found = messageRows(rows, c.user, text);
    assertEquals(found.length, 1, `rows showing "${text}"${screen}`);
    assert(found[0]! < input, `"${text}" is not above the input${screen}`);
    assert(
      !rows[input]!.includes(text),
      `"${text}" is on the input line${screen}`,
    );
    return found[0]!;
  });
  assert(at[0]! < at[1]! && at[1]! < at[2]!, `bob's order${screen}`);
  assertEquals(
    rows.filter((r) => r.includes(partial)).length,
    1,
    `the half-typed text appears only on the input line${screen}`,
  );

  const whole = `${partial} and the end`;
  await tmux.sendKeys(" and the end");
  await tmux.enter();
  await tmux.sendKeys("barrier");
  await tmux.enter();
  for (const receiver of [bob, carol]) {
    await receiver.waitFor(
      (e) => e.type === "message" && e.from === "alice" && e.text === whole,
      "alice's finished line",
    );
    await receiver.waitFor(
      (e) => e.type === "message" && e.from === "alice" && e.text === "barrier",
      "alice's barrier",
    );
    assertEquals(fromAlice(receiver, whole), 1, `${receiver.user}'s copies`);
    assertEquals(
      receiver.received().filter((e) => e.from === "alice").map((e) => e.text),
      [whole, "barrier"],
      `what ${receiver.user} got from alice`,
    );
  }
  const after = await tmux.waitForScreen(
    (rows) =>
      messageRows(rows, "alice", "barrier").length > 0 &&
      rows[lastRow(rows)] === PROMPT,
    "alice's own messages and an empty prompt",
  );
  assertEquals(
    messageRows(after, "alice", whole).length,
    1,
    `alice's own line on her screen\n${frame(after)}`,
  );
  assertEquals(
    after.filter((r) => r.includes(partial)).length,
    1,
    `the sent line left a copy behind\n${frame(after)}`,
  );

  await tmux.sendKeys("/quit");
  await tmux.enter();
  const status = await tmux.waitForExit();
  assertEquals(
    status,
    0,
    `alice's exit status\n${frame(await tmux.capture())}`,
  );
});

Deno.test("control characters in a message do not reach the terminal", async () => {
  await using server = await ServerProcess.start();
  await using bob = await ClientProcess.ready(server, "bob");
  await using tmux = await startInteractive(server, "alice");
  await bob.waitFor((e) => e.type === "join" && e.user === "alice", "alice");

  await bob.say("a line before the escapes");
  await tmux.waitForScreen(
    (rows) => messageRows(rows, "bob", "a line before the escapes").length > 0,
    "bob's first line",
  );
  // raw ESC and RIGHT-TO-LEFT OVERRIDE in the line bob's client sends
  await bob.say("clear \x1b[2J then \u202ereversed");
  const rows = await tmux.waitForScreen(
    (rows) =>
      messageRows(rows, "bob", "clear \\u{1b}[2J then \\u{202e}reversed")
          .length > 0 && rows[lastRow(rows)] === PROMPT,
    "the escaped message above the input line",
  );
  const screen = `\n${frame(rows)}`;
  assert(
    rows.some((r) => r.startsWith("logged in as alice ")),
    `the ready line was cleared${screen}`,
  );
  assertEquals(
    messageRows(rows, "bob", "a line before the escapes").length,
    1,
    `the earlier message was cleared${screen}`,
  );
  assert(
    rows.every((r) => !r.includes("\u202e") && !r.includes("\x1b")),
    `a raw control character reached the screen${screen}`,
  );
  assertEquals(rows[lastRow(rows)], PROMPT, `the input line${screen}`);
});
