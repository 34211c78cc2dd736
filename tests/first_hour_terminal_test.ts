/**
 * What a new user trips over in the first hour (issue 11), in a real
 * terminal: the interactive client runs in tmux against a real server while
 * a real JSON client watches what arrives.
 */
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { ClientProcess, ServerProcess } from "./_harness.ts";
import { frame, startInteractive } from "./_tmux.ts";

const PROMPT = "#general> ";

/** Index of the last row with something on it (the input line). */
function lastRow(rows: string[]): number {
  return rows.findLastIndex((r) => r.trim() !== "");
}

Deno.test("a 14-line paste in the terminal reaches the room whole and in order, with no refusal", async () => {
  // the server's own rate: 10 at once, then 2 per second
  await using server = await ServerProcess.start({
    limits: ["--max-connections-per-ip", "1000"],
  });
  await using bob = await ClientProcess.ready(server, "bob");
  await using tmux = await startInteractive(server, "alice");
  await bob.waitFor((e) => e.type === "join" && e.user === "alice", "alice");
  const lines = Array.from({ length: 14 }, (_, i) => `pasted line ${i + 1}`);
  // one write of every line with its Enter, as a terminal delivers a paste
  await tmux.sendKeys(lines.map((l) => `${l}\r`).join(""));
  await bob.waitFor((e) => e.text === "pasted line 14", "the last line");
  assertEquals(
    bob.received().map((e) => e.text),
    lines,
    "what bob got, in order",
  );
  const rows = await tmux.waitForScreen(
    (rows) => rows.some((r) => r.endsWith("<alice> pasted line 14")),
    "alice's own last line acknowledged",
  );
  assert(
    !rows.some((r) => /slow down|NOT sent|not sent/.test(r)),
    `a refusal on alice's screen\n${frame(rows)}`,
  );
  await tmux.sendKeys("/quit");
  await tmux.enter();
  assertEquals(await tmux.waitForExit(), 0);
});

Deno.test("the first Ctrl-C clears a half-typed line; a Ctrl-C on an empty line quits", async () => {
  await using server = await ServerProcess.start();
  await using tmux = await startInteractive(server, "alice");
  await tmux.sendKeys("half typed, then regretted");
  await tmux.waitForScreen(
    (rows) => rows[lastRow(rows)] === PROMPT + "half typed, then regretted",
    "the half-typed line",
  );
  await tmux.key("C-c");
  const rows = await tmux.waitForScreen(
    (rows) => rows[lastRow(rows)] === PROMPT,
    "an empty prompt after the first Ctrl-C",
  );
  assertEquals(await tmux.exitStatus(), null, `still running\n${frame(rows)}`);
  // and it is still a working chat: the cleared text was not sent
  await tmux.sendKeys("still here");
  await tmux.enter();
  await tmux.waitForScreen(
    (rows) => rows.some((r) => r.endsWith("<alice> still here")),
    "a message after the Ctrl-C",
  );
  await tmux.key("C-c");
  assertEquals(await tmux.waitForExit(), 0, "the second Ctrl-C quits");
});

Deno.test("a message over the server's size limit is refused and stays in the input line to be shortened", async () => {
  await using server = await ServerProcess.start({
    args: ["--max-text-bytes", "40"],
  });
  await using tmux = await startInteractive(server, "alice");
  const long = "this sentence is longer than forty bytes, sadly";
  await tmux.sendKeys(long);
  await tmux.enter();
  const rows = await tmux.waitForScreen(
    (rows) =>
      rows.some((r) => /over the 40-byte limit/.test(r)) &&
      rows[lastRow(rows)] === PROMPT + long,
    "the refusal above the line, and the line still there",
  );
  assertEquals(
    rows.filter((r) => r.includes(long)).length,
    1,
    `only the input line holds the text\n${frame(rows)}`,
  );
  // shorten it (Ctrl-W twice: "forty bytes, sadly" goes) and send it
  await tmux.key("C-w");
  await tmux.key("C-w");
  await tmux.key("C-w");
  await tmux.enter();
  await tmux.waitForScreen(
    (rows) =>
      rows.some((r) => r.endsWith("<alice> this sentence is longer than")),
    "the shortened message sent",
  );
});

Deno.test("narrowing the window leaves no ghost copy of the input line", async () => {
  await using server = await ServerProcess.start();
  await using tmux = await startInteractive(server, "alice");
  const typed = "q".repeat(70);
  await tmux.sendKeys(typed);
  await tmux.waitForScreen(
    (rows) => rows[lastRow(rows)] === PROMPT + typed,
    "the long half-typed line",
  );
  await tmux.resize(40, 30);
  const rows = await tmux.waitForScreen(
    (rows) => {
      const input = rows[lastRow(rows)] ?? "";
      return input.length <= 39 && /q{10}$/.test(input);
    },
    "the input line redrawn for 40 columns",
  );
  assertEquals(
    rows.filter((r) => r.includes("qqq")).length,
    1,
    `the typed text appears on one row only\n${frame(rows)}`,
  );
  assertEquals(
    rows.filter((r) => r.includes("#general>")).length,
    1,
    `one prompt\n${frame(rows)}`,
  );
  await tmux.sendKeys("!");
  await tmux.enter();
  await tmux.waitForScreen(
    (rows) => rows.some((r) => r.includes("<alice> ")),
    "the whole line sent after the resize",
  );
});

Deno.test("/clear empties the screen but for the input line", async () => {
  await using server = await ServerProcess.start();
  await using tmux = await startInteractive(server, "alice");
  await tmux.sendKeys("something to clear away");
  await tmux.enter();
  await tmux.waitForScreen(
    (rows) => rows.some((r) => r.endsWith("<alice> something to clear away")),
    "a message on screen",
  );
  await tmux.sendKeys("/clear");
  await tmux.enter();
  const rows = await tmux.waitForScreen(
    (rows) => rows.filter((r) => r.trim() !== "").length === 1,
    "only one row left",
  );
  assertEquals(rows[lastRow(rows)], PROMPT, frame(rows));
});
