import {
  defaultTranscriptName,
  formatTranscript,
  Transcript,
  type TranscriptEntry,
} from "./transcript.ts";
import { assert, assertEquals, assertMatch } from "../shared/_test_assert.ts";

function entry(
  seq: number,
  text = `message ${seq}`,
  extra: Partial<TranscriptEntry> = {},
): TranscriptEntry {
  return {
    seq,
    ts: 1_700_000_000_000 + seq,
    from: "alice",
    kind: "text",
    text,
    ...extra,
  };
}

/** The local wall-clock time of `ts` the slow way, to compare against. */
function local(ts: number): string {
  const d = new Date(ts);
  const two = (n: number) => (n < 10 ? "0" : "") + n;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

Deno.test("transcript entries come back sorted by seq whatever the order added", () => {
  const t = new Transcript();
  for (const seq of [5, 1, 9, 3]) t.add("general", entry(seq));
  assertEquals(t.entries("general").map((e) => e.seq), [1, 3, 5, 9]);
});

Deno.test("transcript keeps the first message of a repeated seq and adds it once", () => {
  const t = new Transcript();
  t.add("general", entry(7, "first"));
  t.add("general", entry(7, "second"));
  assertEquals(t.entries("general"), [entry(7, "first")]);
});

Deno.test("transcript oldestSeq is the lowest seq seen, or undefined for an empty room", () => {
  const t = new Transcript();
  assertEquals(t.oldestSeq("general"), undefined);
  t.add("general", entry(40));
  t.add("general", entry(12));
  t.add("general", entry(90));
  assertEquals(t.oldestSeq("general"), 12);
});

Deno.test("transcript keeps each room's messages apart", () => {
  const t = new Transcript();
  t.add("general", entry(1, "in general"));
  t.add("dm:alice:bob", entry(1, "in the dm"));
  t.add("dm:alice:bob", entry(2, "more dm"));
  assertEquals(t.entries("general").map((e) => e.text), ["in general"]);
  assertEquals(t.entries("dm:alice:bob").map((e) => e.text), [
    "in the dm",
    "more dm",
  ]);
  assertEquals(t.entries("random"), []);
  assertEquals(t.oldestSeq("random"), undefined);
});

Deno.test("text transcript has one local-time line per message: date, time, <name>, text", () => {
  const e1 = entry(1, "hello there", {
    ts: new Date(2024, 0, 2, 3, 4, 5).getTime(),
  });
  const e2 = entry(2, "second", {
    from: "bob",
    ts: new Date(2024, 11, 31, 23, 59, 58).getTime(),
  });
  assertEquals(
    formatTranscript("general", [e1, e2], "text"),
    "2024-01-02 03:04:05 <alice> hello there\n" +
      "2024-12-31 23:59:58 <bob> second\n",
  );
});

Deno.test("text transcript timestamps agree with the local clock", () => {
  const ts = 1_718_000_123_456;
  const out = formatTranscript("general", [entry(1, "x", { ts })], "text");
  assertEquals(out, `${local(ts)} <alice> x\n`);
  assertMatch(out, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} <alice> x\n$/);
});

Deno.test("text transcript writes a /me action as * name action", () => {
  const e = entry(1, "waves", {
    kind: "me",
    ts: new Date(2024, 5, 6, 7, 8, 9).getTime(),
  });
  assertEquals(
    formatTranscript("general", [e], "text"),
    "2024-06-06 07:08:09 * alice waves\n",
  );
});

Deno.test("text transcript neutralises escapes and control characters in text and names", () => {
  const e = entry(1, "a\x1b[2Jb\x07c\rd\ne\u202ef", {
    from: "eve\x1b]0;x\x07",
  });
  const out = formatTranscript("general", [e], "text");
  // deno-lint-ignore no-control-regex
  assert(!/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/.test(out), JSON.stringify(out));
  assertEquals(
    out.split("\n").length,
    2,
    "one line per message (and a final newline)",
  );
  assertEquals(
    out.slice(20),
    "<eve\\u{1b}]0;x\\u{7}> a\\u{1b}[2Jb\\u{7}c\\u{d}d e\\u{202e}f\n",
  );
});

Deno.test("an empty text transcript is empty", () => {
  assertEquals(formatTranscript("general", [], "text"), "");
  assertEquals(formatTranscript("general", [], "jsonl"), "");
});

Deno.test("jsonl transcript has one JSON object per line with room, seq, ts, from, kind, text", () => {
  const e1 = entry(3, "hi", { ts: 1000 });
  const e2 = entry(4, "waves", { ts: 2000, from: "bob", kind: "me" });
  const out = formatTranscript("dm:alice:bob", [e1, e2], "jsonl");
  assert(out.endsWith("\n"), "ends with a newline");
  const lines = out.slice(0, -1).split("\n");
  assertEquals(lines.map((l) => JSON.parse(l)), [
    {
      room: "dm:alice:bob",
      seq: 3,
      ts: 1000,
      from: "alice",
      kind: "text",
      text: "hi",
    },
    {
      room: "dm:alice:bob",
      seq: 4,
      ts: 2000,
      from: "bob",
      kind: "me",
      text: "waves",
    },
  ]);
});

Deno.test("jsonl transcript keeps the raw text, escapes and newlines included", () => {
  const raw = "line one\nline two \x1b[31mred\x1b[0m \u202e日本 🙂";
  const out = formatTranscript("general", [entry(1, raw)], "jsonl");
  assertEquals(out.split("\n").length, 2, "the newline in the text is escaped");
  assertEquals(JSON.parse(out).text, raw);
});

Deno.test("the default transcript name is chat-ROOM-YYYYMMDD-HHMMSS.txt in local time", () => {
  const now = new Date(2024, 2, 4, 5, 6, 7);
  assertEquals(
    defaultTranscriptName("general", now, "text"),
    "chat-general-20240304-050607.txt",
  );
});

Deno.test("the default jsonl transcript name ends in .jsonl", () => {
  const now = new Date(2025, 10, 30, 23, 59, 59);
  assertEquals(
    defaultTranscriptName("general", now, "jsonl"),
    "chat-general-20251130-235959.jsonl",
  );
});

Deno.test("the default transcript name of a DM room is safe as a file name", () => {
  const name = defaultTranscriptName(
    "dm:alice:bob",
    new Date(2024, 0, 1),
    "text",
  );
  assertEquals(name, "chat-dm-alice-bob-20240101-000000.txt");
  assertMatch(name, /^[A-Za-z0-9_.-]+$/);
});

Deno.test("the default transcript name cannot carry a path or escape from a hostile room name", () => {
  const name = defaultTranscriptName(
    "../..\\/\x1b[2J",
    new Date(2024, 0, 1),
    "text",
  );
  assertMatch(name, /^chat-[A-Za-z0-9_-]+-20240101-000000\.txt$/);
});
