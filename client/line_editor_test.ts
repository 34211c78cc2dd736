import {
  codePointWidth,
  displayWidth,
  type EditorAction,
  LineEditor,
} from "./line_editor.ts";

function assertEquals(actual: unknown, expected: unknown, message = ""): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) {
    throw new Error(`${message ? message + ": " : ""}expected ${e}, got ${a}`);
  }
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function assertThrows(fn: () => unknown, errorClass: typeof Error): void {
  try {
    fn();
  } catch (error) {
    assert(error instanceof errorClass, `wrong error: ${error}`);
    return;
  }
  throw new Error("expected an exception");
}

/**
 * Interprets the subset of ANSI the editor emits ("\r", "\n", "ESC[2K",
 * "ESC[nC", SGR, text) onto a screen. It throws on anything else, on text
 * running past the right edge, and on the cursor leaving the screen.
 */
class VirtualTerminal {
  readonly screen: string[][];
  row: number;
  col = 0;

  constructor(readonly width: number, readonly height: number) {
    this.screen = Array.from({ length: height }, () => this.#blankRow());
    this.row = height - 1;
  }

  write(output: string): void {
    const cps = [...output];
    for (let i = 0; i < cps.length; i++) {
      const ch = cps[i] as string;
      const cp = ch.codePointAt(0) as number;
      if (ch === "\r") {
        this.col = 0;
      } else if (ch === "\n") {
        this.row++;
        if (this.row === this.height) {
          this.screen.shift();
          this.screen.push(this.#blankRow());
          this.row--;
        }
      } else if (ch === "\x1b") {
        assert(cps[i + 1] === "[", `unexpected escape in ${output}`);
        let j = i + 2;
        let params = "";
        while (/^[0-9;]$/.test(cps[j] ?? "")) params += cps[j++];
        const final = cps[j];
        if (final === "K" && params === "2") {
          this.screen[this.row] = this.#blankRow();
        } else if (final === "C" && /^[0-9]+$/.test(params)) {
          this.col += Number(params);
          assert(this.col < this.width, `cursor off screen at ${this.col}`);
        } else if (final !== "m") {
          throw new Error(`unexpected sequence ESC[${params}${final}`);
        }
        i = j;
      } else {
        assert(cp >= 0x20 && cp !== 0x7f, `control char ${cp} written`);
        const cells = this.screen[this.row] as string[];
        const w = codePointWidth(cp);
        if (w === 0) {
          cells[this.col - 1] += ch;
          continue;
        }
        assert(this.col + w <= this.width, `text past column ${this.width}`);
        cells[this.col] = ch;
        if (w === 2) cells[this.col + 1] = "";
        this.col += w;
      }
    }
  }

  rowText(row: number): string {
    return (this.screen[row] ?? []).join("").trimEnd();
  }

  #blankRow(): string[] {
    return Array.from({ length: this.width }, () => " ");
  }
}

/** Renders `editor` on a fresh one-row terminal as wide as its columns. */
function show(editor: LineEditor, columns: number): VirtualTerminal {
  const term = new VirtualTerminal(columns, 1);
  term.write(editor.render());
  return term;
}

function edited(input: string | string[]): LineEditor {
  const editor = new LineEditor();
  for (const part of typeof input === "string" ? [input] : input) {
    editor.feed(part);
  }
  return editor;
}

const editingCases: {
  name: string;
  input: string;
  line: string;
  at: number;
}[] = [
  { name: "plain text", input: "hello", line: "hello", at: 5 },
  { name: "accented text", input: "café", line: "café", at: 4 },
  { name: "CJK text", input: "日本", line: "日本", at: 2 },
  { name: "an emoji", input: "hi 🙂", line: "hi 🙂", at: 4 },
  { name: "Left", input: "ab\x1b[D", line: "ab", at: 1 },
  { name: "SS3 Left", input: "ab\x1bOD", line: "ab", at: 1 },
  { name: "Right", input: "ab\x1b[D\x1b[D\x1b[C", line: "ab", at: 1 },
  { name: "SS3 Right", input: "ab\x01\x1bOC", line: "ab", at: 1 },
  { name: "Left at the start", input: "a\x01\x1b[D", line: "a", at: 0 },
  { name: "Right at the end", input: "a\x1b[C", line: "a", at: 1 },
  { name: "Home (CSI H)", input: "abc\x1b[H", line: "abc", at: 0 },
  { name: "Home (CSI 1~)", input: "abc\x1b[1~", line: "abc", at: 0 },
  { name: "Home (SS3 H)", input: "abc\x1bOH", line: "abc", at: 0 },
  { name: "Ctrl-A", input: "abc\x01", line: "abc", at: 0 },
  { name: "End (CSI F)", input: "abc\x01\x1b[F", line: "abc", at: 3 },
  { name: "End (CSI 4~)", input: "abc\x01\x1b[4~", line: "abc", at: 3 },
  { name: "End (SS3 F)", input: "abc\x01\x1bOF", line: "abc", at: 3 },
  { name: "Ctrl-E", input: "abc\x01\x05", line: "abc", at: 3 },
  { name: "insertion mid-line", input: "ac\x1b[Db", line: "abc", at: 2 },
  { name: "Backspace (DEL)", input: "abc\x7f", line: "ab", at: 2 },
  { name: "Backspace (BS)", input: "abc\b", line: "ab", at: 2 },
  { name: "Backspace mid-line", input: "abc\x1b[D\x7f", line: "ac", at: 1 },
  { name: "Backspace at the start", input: "ab\x01\x7f", line: "ab", at: 0 },
  { name: "Delete", input: "abc\x01\x1b[3~", line: "bc", at: 0 },
  { name: "Delete at the end", input: "abc\x1b[3~", line: "abc", at: 3 },
  { name: "Ctrl-D mid-line", input: "abc\x1b[D\x04", line: "ab", at: 2 },
  { name: "Ctrl-D at the end", input: "abc\x04", line: "abc", at: 3 },
  { name: "Ctrl-U", input: "abcd\x1b[D\x1b[D\x15", line: "cd", at: 0 },
  { name: "Ctrl-K", input: "abcd\x1b[D\x1b[D\x0b", line: "ab", at: 2 },
  { name: "Ctrl-L", input: "ab\x0c", line: "ab", at: 2 },
  { name: "Tab", input: "a\tb", line: "ab", at: 2 },
  { name: "wide-char Backspace", input: "日本\x7f", line: "日", at: 1 },
  {
    name: "combining Left",
    input: "e\u0301x\x1b[D\x1b[D",
    line: "e\u0301x",
    at: 0,
  },
  { name: "combining Backspace", input: "ae\u0301\x7f", line: "a", at: 1 },
  { name: "combining Delete", input: "e\u0301x\x01\x1b[3~", line: "x", at: 0 },
];

for (const { name, input, line, at } of editingCases) {
  Deno.test(`editor handles ${name} and leaves the cursor at ${at}`, () => {
    const editor = new LineEditor();
    assertEquals(editor.feed(input), []);
    assertEquals(editor.line, line);
    assertEquals(editor.cursor, at);
  });
}

const wordCases: { before: string; left: number; line: string; at: number }[] =
  [
    { before: "hello world", left: 0, line: "hello ", at: 6 },
    { before: "hello world  ", left: 0, line: "hello ", at: 6 },
    { before: "hello world", left: 3, line: "hello rld", at: 6 },
    { before: "hello world", left: 5, line: "world", at: 0 },
    { before: "one", left: 0, line: "", at: 0 },
    { before: "  ", left: 0, line: "", at: 0 },
    { before: "日本\u3000語", left: 0, line: "日本\u3000", at: 3 },
  ];

for (const { before, left, line, at } of wordCases) {
  const where = left === 0 ? "at the end" : `${left} from the end`;
  Deno.test(`Ctrl-W on ${JSON.stringify(before)} ${where} leaves ${JSON.stringify(line)}`, () => {
    const editor = edited(before + "\x1b[D".repeat(left) + "\x17");
    assertEquals([editor.line, editor.cursor], [line, at]);
  });
}

const enterCases: { input: string[]; submitted: string[]; line: string }[] = [
  { input: ["hi\r"], submitted: ["hi"], line: "" },
  { input: ["hi\n"], submitted: ["hi"], line: "" },
  { input: ["hi\r\n"], submitted: ["hi"], line: "" },
  { input: ["hi\r", "\nthere"], submitted: ["hi"], line: "there" },
  { input: ["a\rb\nc"], submitted: ["a", "b"], line: "c" },
  { input: ["\r\r"], submitted: ["", ""], line: "" },
  { input: ["a\r\n\r\nb"], submitted: ["a", ""], line: "b" },
  { input: ["ab\x1b[D\r"], submitted: ["ab"], line: "" },
];

for (const { input, submitted, line } of enterCases) {
  Deno.test(`Enter in ${JSON.stringify(input)} submits ${JSON.stringify(submitted)}`, () => {
    const editor = new LineEditor();
    const actions = input.flatMap((part) => editor.feed(part));
    assertEquals(actions, submitted.map((l) => ({ kind: "submit", line: l })));
    assertEquals(editor.line, line);
    assertEquals(editor.cursor, [...line].length);
  });
}

Deno.test("the first Ctrl-C clears a half-typed line, a Ctrl-C on an empty line interrupts", () => {
  const editor = new LineEditor();
  assertEquals(editor.feed("secret\x1b[D\x03"), [], "a typed line: cleared");
  assertEquals([editor.line, editor.cursor], ["", 0]);
  assertEquals(editor.feed("\x03"), [{ kind: "interrupt" }], "then: quit");
  assertEquals(editor.feed("ok\r"), [{ kind: "submit", line: "ok" }]);
});

Deno.test("a line put back with setLine is edited and submitted like a typed one", () => {
  const editor = new LineEditor();
  editor.setLine("too long to send");
  assertEquals([editor.line, editor.cursor], ["too long to send", 16]);
  assertEquals(editor.feed("\x17\x17\x17send\r"), [{
    kind: "submit",
    line: "too send",
  }]);
});

Deno.test("after a resize, the editor knows how many rows its re-wrapped line takes above the cursor", () => {
  const editor = new LineEditor({ columns: 100, prompt: "#general> " });
  editor.feed("x".repeat(60));
  editor.render();
  assertEquals(editor.rowsAboveCursorAt(100), 0);
  assertEquals(editor.rowsAboveCursorAt(40), 1, "column 70 at width 40");
  assertEquals(editor.rowsAboveCursorAt(20), 3, "column 70 at width 20");
});

Deno.test("Ctrl-D on an empty line reports end of input", () => {
  const editor = new LineEditor();
  assertEquals(editor.feed("\x04"), [{ kind: "eof" }]);
  assertEquals(editor.feed("a\x7f\x04"), [{ kind: "eof" }]);
  assertEquals(editor.feed("a\x04"), []);
});

Deno.test("control characters other than editing keys are never inserted", () => {
  const keys = new Set([0x01, 0x03, 0x04, 0x05, 0x08, 0x0a, 0x0b, 0x0d]);
  for (const cp of [0x15, 0x17, 0x1b, 0x7f]) keys.add(cp);
  for (let cp = 0; cp < 0xa0; cp++) {
    if (cp >= 0x20 && cp < 0x7f) continue;
    const ch = String.fromCodePoint(cp);
    const editor = new LineEditor();
    editor.feed("ab\x1b[D");
    const actions = editor.feed(ch + "c");
    assert(!editor.line.includes(ch), `U+${cp.toString(16)} was inserted`);
    if (!keys.has(cp)) {
      assertEquals([actions, editor.line, editor.cursor], [[], "acb", 2]);
    }
  }
});

Deno.test("unknown escape sequences are ignored", () => {
  const sequences = [
    "\x1b[5~",
    "\x1b[15~",
    "\x1b[1;5C",
    "\x1b[?25h",
    "\x1b[Z",
    "\x1bOP",
    "\x1b[" + "9".repeat(100) + "D",
    "\x1b[200~",
    "\x1b[201~",
  ];
  for (const seq of sequences) {
    const editor = new LineEditor();
    assertEquals(editor.feed("ab" + seq + "c"), [], JSON.stringify(seq));
    assertEquals([editor.line, editor.cursor], ["abc", 3], JSON.stringify(seq));
  }
});

Deno.test("a malformed escape sequence is dropped without inserting it", () => {
  const editor = edited("a\x1b[1\x01b");
  assertEquals([editor.line, editor.cursor], ["ba", 1]);
  assertEquals(edited("a\x1b\x1b[Db").line, "ba");
});

Deno.test("a lone ESC before a printable character drops the ESC", () => {
  assertEquals(edited("a\x1bx").line, "ax");
  assertEquals(edited(["a\x1b", "x"]).line, "ax");
  assertEquals(edited(["a\x1b", "é"]).line, "aé");
});

Deno.test("escape sequences split across feeds act like whole ones", () => {
  const sequences = [
    "\x1b[D",
    "\x1bOD",
    "\x1b[C",
    "\x1b[3~",
    "\x1b[1~",
    "\x1b[4~",
    "\x1bOH",
    "\x1b[A",
    "\x1b[B",
    "\x1b[200~",
    "\x1b[1;5C",
  ];
  for (const seq of sequences) {
    const whole = edited(["old\r", "abc\x1b[D\x1b[D", seq, "x"]);
    for (let cut = 1; cut < seq.length; cut++) {
      const parts = ["old\r", "abc\x1b[D\x1b[D", seq.slice(0, cut)];
      const split = edited([...parts, seq.slice(cut), "x"]);
      const label = `${JSON.stringify(seq)} cut at ${cut}`;
      assertEquals(
        [split.line, split.cursor],
        [whole.line, whole.cursor],
        label,
      );
    }
  }
  const editor = new LineEditor();
  editor.feed("ab");
  assertEquals(editor.feed("\x1b"), []);
  assertEquals([editor.line, editor.cursor], ["ab", 2]);
  editor.feed("[");
  editor.feed("D");
  assertEquals([editor.line, editor.cursor], ["ab", 1]);
});

Deno.test("bracketed paste markers are stripped and pasted newlines submit", () => {
  const editor = new LineEditor();
  assertEquals(editor.feed("\x1b[200~hello\x1b[201~"), []);
  assertEquals(editor.line, "hello");
  const actions = editor.feed("\x1b[200~ one\r\ntwo\x1b[201~");
  assertEquals(actions, [{ kind: "submit", line: "hello one" }]);
  assertEquals(editor.line, "two");
});

Deno.test("Up and Down browse history and keep the draft", () => {
  const editor = new LineEditor();
  editor.feed("first\rsecond\rdra");
  editor.feed("\x1b[A");
  assertEquals([editor.line, editor.cursor], ["second", 6]);
  editor.feed("\x1b[A");
  assertEquals(editor.line, "first");
  editor.feed("\x1b[A");
  assertEquals(editor.line, "first");
  editor.feed("\x1bOB");
  assertEquals(editor.line, "second");
  editor.feed("\x1b[B");
  assertEquals([editor.line, editor.cursor], ["dra", 3]);
  editor.feed("\x1b[B");
  assertEquals(editor.line, "dra");
  editor.feed("\x1b[A!");
  const actions: EditorAction[] = editor.feed("\r");
  assertEquals(actions, [{ kind: "submit", line: "second!" }]);
  editor.feed("\x1b[A");
  assertEquals(editor.line, "second!");
  editor.feed("\x1b[B");
  assertEquals(editor.line, "");
});

Deno.test("history skips empty and repeated lines and keeps only historySize", () => {
  const editor = new LineEditor({ historySize: 2 });
  editor.feed("a\r\rb\rb\rc\r");
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    editor.feed("\x1b[A");
    seen.push(editor.line);
  }
  assertEquals(seen, ["c", "b", "b", "b"]);
  const none = new LineEditor({ historySize: 0 });
  none.feed("a\r\x1b[A");
  assertEquals(none.line, "");
});

Deno.test("history on an empty editor does nothing", () => {
  const editor = edited("draft\x1b[A\x1b[B");
  assertEquals([editor.line, editor.cursor], ["draft", 5]);
});

const widthCases: { text: string; width: number; label?: string }[] = [
  { text: "", width: 0 },
  { text: "hello", width: 5 },
  { text: "é", width: 1 },
  { text: "e\u0301", width: 1, label: "e with a combining acute" },
  { text: "日本", width: 4 },
  { text: "한국", width: 4 },
  { text: "ＡＢ", width: 4 },
  { text: "🙂", width: 2 },
  { text: "🤖x", width: 3 },
  { text: "\u{20000}", width: 2 },
  { text: "\x1b[1;32m> \x1b[0m", width: 2 },
  { text: "\x1b[38;5;208mé日\x1b[m", width: 3 },
];

for (const { text, width, label } of widthCases) {
  Deno.test(`displayWidth of ${label ?? JSON.stringify(text)} is ${width}`, () => {
    assertEquals(displayWidth(text), width);
  });
}

Deno.test("render clears the line, draws prompt and text, and places the cursor", () => {
  const editor = new LineEditor({ prompt: "> " });
  assertEquals(editor.render(), "\r\x1b[2K> \r\x1b[2C");
  editor.feed("abc\x1b[D");
  assertEquals(editor.render(), "\r\x1b[2K> abc\r\x1b[4C");
  editor.setPrompt("");
  editor.feed("\x01");
  assertEquals(editor.render(), "\r\x1b[2Kabc\r");
});

Deno.test("wide characters move the cursor two columns", () => {
  const editor = new LineEditor({ prompt: "> ", columns: 40 });
  editor.feed("日本語x\x1b[D");
  const term = show(editor, 40);
  assertEquals(term.rowText(0), "> 日本語x");
  assertEquals(term.col, 8);
  editor.feed("\x1b[D");
  assertEquals(show(editor, 40).col, 6);
  editor.feed("\x01");
  assertEquals(show(editor, 40).col, 2);
});

Deno.test("a prompt with colour codes does not shift the cursor", () => {
  const editor = new LineEditor({ prompt: "\x1b[1;36mbob\x1b[0m> " });
  editor.feed("hey");
  const out = editor.render();
  assert(out.includes("\x1b[1;36mbob\x1b[0m> hey"), out);
  assert(out.endsWith("\r\x1b[8C"), out);
  assertEquals(show(editor, 80).rowText(0), "bob> hey");
});

Deno.test("printAbove prints each line then redraws the input line", () => {
  const editor = new LineEditor({ prompt: "> " });
  editor.feed("x");
  assertEquals(
    editor.printAbove("a\r\nb"),
    "\r\x1b[2Ka\r\nb\r\n\r\x1b[2K> x\r\x1b[3C",
  );
});

Deno.test("a line wider than the terminal shows a window around the cursor", () => {
  const editor = new LineEditor({ prompt: "> ", columns: 10 });
  editor.feed("abcdefghijklmnop");
  let term = show(editor, 10);
  assertEquals([term.rowText(0), term.col], ["> jklmnop", 9]);
  editor.feed("\x01");
  term = show(editor, 10);
  assertEquals([term.rowText(0), term.col], ["> abcdefg", 2]);
  editor.feed("\x1b[C".repeat(9));
  term = show(editor, 10);
  assertEquals([term.rowText(0), term.col], ["> defghij", 8]);
  editor.feed("\x05\x15");
  term = show(editor, 10);
  assertEquals([term.rowText(0), term.col], [">", 2]);
});

Deno.test("a prompt too wide for the terminal is left out", () => {
  const editor = new LineEditor({ prompt: "long-prompt> ", columns: 8 });
  editor.feed("hi");
  const term = show(editor, 8);
  assertEquals([term.rowText(0), term.col], ["hi", 2]);
});

Deno.test("a long line scrolls so the cursor stays visible within the columns", () => {
  const texts = [
    "abcdefghijklmnopqrstuvwxyz0123456789",
    "日本語のテキストとasciiが混ざった長い行です",
    "ae\u0301io\u0308u 🙂🤖 mixed 漢字 text",
  ];
  for (const columns of [1, 2, 3, 5, 8, 13, 20]) {
    for (const prompt of ["", "> ", "\x1b[32mnick\x1b[0m> "]) {
      for (const text of texts) {
        const editor = new LineEditor({ prompt, columns });
        const chars: string[] = [];
        const check = () => {
          const out = editor.render();
          const drawn = out.slice("\r\x1b[2K".length, out.lastIndexOf("\r"));
          assert(displayWidth(drawn) < columns, `too wide: ${out}`);
          const term = show(editor, columns);
          const label = `${columns} ${JSON.stringify(prompt)} ${editor.cursor}`;
          assert(term.col < columns, label);
          const cell = (term.screen[0] as string[])[term.col] ?? "";
          const under = chars[editor.cursor];
          if (under !== undefined && codePointWidth(under.codePointAt(0)!)) {
            if (columns > 2) assert(cell.startsWith(under), label);
          }
          const plain = prompt.replaceAll("\x1b[32m", "").replaceAll(
            "\x1b[0m",
            "",
          );
          const row = (term.screen[0] as string[]).join("");
          const rest = (row.startsWith(plain) ? row.slice(plain.length) : row)
            .trimEnd();
          assert(text.includes(rest), `${label}: ${row} is not a window`);
        };
        for (const ch of text) {
          editor.feed(ch);
          chars.push(ch);
          check();
        }
        while (editor.cursor > 0) {
          editor.feed("\x1b[D");
          check();
        }
        editor.feed("\x05");
        check();
      }
    }
  }
});

Deno.test("the virtual terminal keeps messages above a half-typed line", () => {
  const editor = new LineEditor({ prompt: "> ", columns: 40 });
  const term = new VirtualTerminal(40, 5);
  term.write(editor.render());
  for (const ch of "hello wor") {
    assertEquals(editor.feed(ch), []);
    term.write(editor.render());
  }
  term.write(editor.printAbove("alice: hi"));
  term.write(editor.printAbove("alice: hi"));
  assertEquals(
    [0, 1, 2, 3, 4].map((row) => term.rowText(row)),
    ["", "", "alice: hi", "alice: hi", "> hello wor"],
  );
  assertEquals([term.row, term.col], [4, 11]);
  assertEquals(editor.feed("ld\r"), [{ kind: "submit", line: "hello world" }]);
  term.write(editor.render());
  assertEquals([term.rowText(4), term.col], [">", 2]);
});

Deno.test("invalid sizes are rejected with RangeError", () => {
  assertThrows(() => new LineEditor({ columns: 0 }), RangeError);
  assertThrows(() => new LineEditor({ columns: 1.5 }), RangeError);
  assertThrows(() => new LineEditor({ historySize: -1 }), RangeError);
  assertThrows(() => new LineEditor().setColumns(Number.NaN), RangeError);
});
