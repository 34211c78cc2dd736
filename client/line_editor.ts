/**
 * The pure core of the chat client's input line: a single-line editor with
 * history that turns raw-mode terminal input into edits and actions, and
 * renders itself as ANSI strings. It does no I/O; its owner feeds it decoded
 * stdin and writes what it returns to stdout.
 *
 * @module
 */
import { codePointWidth, displayWidth } from "./display_width.ts";

import { CSI_KEYS, isInsertable, type Key, SS3_KEYS } from "./terminal_keys.ts";

export { codePointWidth, displayWidth } from "./display_width.ts";

/** What the editor asks its owner to do after some input. */
export type EditorAction =
  | { kind: "submit"; line: string }
  | { kind: "eof" }
  | { kind: "interrupt" };

/** Options for a {@linkcode LineEditor}; every field has a default. */
export interface LineEditorOptions {
  /** Text drawn before the input; may contain SGR colour codes. Default "". */
  prompt?: string;
  /** Terminal width in columns, at least 1. Default 80. */
  columns?: number;
  /** How many submitted lines Up/Down can recall. Default 100. */
  historySize?: number;
}

const _ESC = "\x1b";
const _MAX_CSI_LENGTH = 32;

function _width(ch: string | undefined): number {
  return ch === undefined ? 0 : codePointWidth(ch.codePointAt(0) as number);
}

/**
 * A single-line editor with history; holds the text being typed and the
 * cursor. Feed it raw-mode terminal input with {@linkcode LineEditor.feed},
 * draw it with {@linkcode LineEditor.render}, and print incoming messages
 * with {@linkcode LineEditor.printAbove} so they never garble the input line.
 *
 * @example
 * ```ts
 * const editor = new LineEditor({ prompt: "> ", columns: 80 });
 * editor.feed("hi\x1b[Dé"); // []
 * editor.line; // "héi"
 * editor.feed("\r"); // [{ kind: "submit", line: "héi" }]
 * ```
 */
export class LineEditor {
  #chars: string[] = [];
  #cursor = 0;
  #prompt = "";
  #promptWidth = 0;
  #columns = 80;
  #historySize: number;
  #history: string[] = [];
  #historyIndex = 0;
  #draft = "";
  #state: "ground" | "esc" | "csi" | "ss3" = "ground";
  #csi = "";
  #afterCr = false;
  #viewStart = 0;
  /** The cursor's column in the last render(). */
  #drawnCursorColumn = 0;

  /** Creates an empty editor; throws RangeError for invalid sizes. */
  constructor(options: LineEditorOptions = {}) {
    const historySize = options.historySize ?? 100;
    if (!Number.isInteger(historySize) || historySize < 0) {
      throw new RangeError(`invalid history size: ${historySize}`);
    }
    this.#historySize = historySize;
    this.setPrompt(options.prompt ?? "");
    this.setColumns(options.columns ?? 80);
  }

  /**
   * Feed decoded input (may contain several keys, partial escape sequences
   * are buffered until complete). Returns the actions produced, in order.
   */
  feed(input: string): EditorAction[] {
    const actions: EditorAction[] = [];
    for (const ch of input) this.#step(ch, actions);
    return actions;
  }

  /** The text currently typed. */
  get line(): string {
    return this.#chars.join("");
  }

  /**
   * Put `text` back as the line being typed, cursor at its end (a line the
   * chat refused to send is returned to the user, not lost).
   */
  setLine(text: string): void {
    this.#load(text);
  }

  /**
   * Rows above the cursor that the last render() took once the terminal
   * re-wraps it at `columns` (a resize that narrows the window reflows the
   * drawn line onto several rows in most terminals).
   */
  rowsAboveCursorAt(columns: number): number {
    return Math.floor(this.#drawnCursorColumn / Math.max(1, columns));
  }

  /** Cursor position as an index into [...line] (code points). */
  get cursor(): number {
    return this.#cursor;
  }

  /** Replaces the prompt; it may contain SGR colour codes. */
  setPrompt(prompt: string): void {
    this.#prompt = prompt;
    this.#promptWidth = displayWidth(prompt);
  }

  /** Sets the terminal width; throws RangeError unless a positive integer. */
  setColumns(columns: number): void {
    if (!Number.isInteger(columns) || columns < 1) {
      throw new RangeError(`invalid column count: ${columns}`);
    }
    this.#columns = columns;
  }

  /**
   * ANSI string that redraws the prompt and input line in place. When they
   * are wider than the terminal, a horizontal window of the line keeps the
   * cursor visible. Nothing is ever written to the last column, so the
   * terminal never wraps; a prompt too wide to leave room is left out.
   */
  render(): string {
    let prompt = this.#prompt;
    let promptWidth = this.#promptWidth;
    let room = this.#columns - 1 - promptWidth;
    if (room < 2 && promptWidth > 0) {
      prompt = "";
      promptWidth = 0;
      room = this.#columns - 1;
    }
    this.#adjustView(room);
    let text = "";
    let used = 0;
    for (let i = this.#viewStart; i < this.#chars.length; i++) {
      const w = _width(this.#chars[i]);
      if (used + w > room) break;
      text += this.#chars[i];
      used += w;
    }
    const column = promptWidth +
      this.#widthOf(this.#viewStart, this.#cursor);
    this.#drawnCursorColumn = column;
    const move = column > 0 ? `\x1b[${column}C` : "";
    return `\r\x1b[2K${prompt}${text}\r${move}`;
  }

  /**
   * ANSI string that prints `text` (one or more lines, "\n"-separated) above
   * the input line, then redraws the input line. The text is written as
   * given: the owner must strip control characters from untrusted content.
   */
  printAbove(text: string): string {
    let out = "\r\x1b[2K";
    for (const line of text.split("\n")) {
      out += (line.endsWith("\r") ? line.slice(0, -1) : line) + "\r\n";
    }
    return out + this.render();
  }

  #step(ch: string, actions: EditorAction[]): void {
    const afterCr = this.#afterCr;
    this.#afterCr = false;
    const cp = ch.codePointAt(0) as number;
    switch (this.#state) {
      case "esc":
        this.#state = "ground";
        if (ch === "[") {
          this.#state = "csi";
          this.#csi = "";
          return;
        }
        if (ch === "O") {
          this.#state = "ss3";
          return;
        }
        break; // drop the ESC; handle ch as ordinary input
      case "csi":
        if (cp >= 0x20 && cp <= 0x3f) {
          if (this.#csi.length <= _MAX_CSI_LENGTH) this.#csi += ch;
          return;
        }
        this.#state = "ground";
        if (cp >= 0x40 && cp <= 0x7e) {
          const key = this.#csi.length <= _MAX_CSI_LENGTH
            ? CSI_KEYS[this.#csi + ch]
            : undefined;
          if (key !== undefined) this.#key(key);
          return;
        }
        break; // malformed: abandon the sequence, handle ch as input
      case "ss3": {
        this.#state = "ground";
        if (cp >= 0x20 && cp <= 0x7e) {
          const key = SS3_KEYS[ch];
          if (key !== undefined) this.#key(key);
          return;
        }
        break;
      }
    }
    if (ch === _ESC) {
      this.#state = "esc";
    } else if (ch === "\n" && afterCr) {
      // second half of "\r\n": one Enter
    } else if (cp < 0x20 || cp === 0x7f) {
      this.#control(ch, actions);
    } else if (isInsertable(cp)) {
      this.#chars.splice(this.#cursor, 0, ch);
      this.#cursor++;
    }
  }

  #control(ch: string, actions: EditorAction[]): void {
    switch (ch) {
      case "\r":
        this.#afterCr = true;
        this.#submit(actions);
        return;
      case "\n":
        this.#submit(actions);
        return;
      case "\x7f":
      case "\b":
        this.#deleteRange(this.#previousStop(this.#cursor), this.#cursor);
        return;
      case "\x01":
        return this.#key("home");
      case "\x05":
        return this.#key("end");
      case "\x03":
        // the first Ctrl-C clears a half-typed line; on an empty one it quits
        if (this.#chars.length === 0) actions.push({ kind: "interrupt" });
        this.#reset();
        return;
      case "\x04":
        if (this.#chars.length === 0) actions.push({ kind: "eof" });
        else this.#key("delete");
        return;
      case "\x0b":
        this.#deleteRange(this.#cursor, this.#chars.length);
        return;
      case "\x15":
        this.#deleteRange(0, this.#cursor);
        return;
      case "\x17":
        this.#deleteRange(this.#wordStart(), this.#cursor);
        return;
      default:
        return; // Tab, Ctrl-L and every other control character: ignored
    }
  }

  #key(key: Key): void {
    switch (key) {
      case "left":
        this.#cursor = this.#previousStop(this.#cursor);
        return;
      case "right":
        this.#cursor = this.#nextStop(this.#cursor);
        return;
      case "home":
        this.#cursor = 0;
        return;
      case "end":
        this.#cursor = this.#chars.length;
        return;
      case "delete":
        this.#deleteRange(this.#cursor, this.#nextStop(this.#cursor));
        return;
      case "up":
        if (this.#historyIndex === 0) return;
        if (this.#historyIndex === this.#history.length) {
          this.#draft = this.line;
        }
        this.#historyIndex--;
        this.#load(this.#history[this.#historyIndex] ?? "");
        return;
      case "down":
        if (this.#historyIndex >= this.#history.length) return;
        this.#historyIndex++;
        this.#load(this.#history[this.#historyIndex] ?? this.#draft);
        return;
    }
  }

  #submit(actions: EditorAction[]): void {
    const line = this.line;
    if (
      line !== "" && this.#historySize > 0 && this.#history.at(-1) !== line
    ) {
      this.#history.push(line);
      if (this.#history.length > this.#historySize) this.#history.shift();
    }
    this.#reset();
    actions.push({ kind: "submit", line });
  }

  #reset(): void {
    this.#load("");
    this.#historyIndex = this.#history.length;
    this.#draft = "";
  }

  #load(text: string): void {
    this.#chars = [...text];
    this.#cursor = this.#chars.length;
    this.#viewStart = 0;
  }

  #deleteRange(from: number, to: number): void {
    if (to <= from) return;
    this.#chars.splice(from, to - from);
    this.#cursor = from;
  }

  /** Index after the character at `i` and any zero-width marks on it. */
  #nextStop(i: number): number {
    if (i >= this.#chars.length) return this.#chars.length;
    i++;
    while (i < this.#chars.length && _width(this.#chars[i]) === 0) i++;
    return i;
  }

  /** Index of the character (with its zero-width marks) before `i`. */
  #previousStop(i: number): number {
    if (i <= 0) return 0;
    i--;
    while (i > 0 && _width(this.#chars[i]) === 0) i--;
    return i;
  }

  /** Start of the whitespace-delimited word before the cursor. */
  #wordStart(): number {
    let i = this.#cursor;
    while (i > 0 && /\s/u.test(this.#chars[i - 1] as string)) i--;
    while (i > 0 && !/\s/u.test(this.#chars[i - 1] as string)) i--;
    return i;
  }

  #widthOf(from: number, to: number): number {
    let width = 0;
    for (let i = from; i < to; i++) width += _width(this.#chars[i]);
    return width;
  }

  /** Moves the window start so the cursor fits within `room` columns. */
  #adjustView(room: number): void {
    const cursor = this.#cursor;
    const length = this.#chars.length;
    let start = Math.min(this.#viewStart, cursor);
    const under = _width(this.#chars[cursor]);
    let column = this.#widthOf(start, cursor);
    while (start < cursor && column + under > room) {
      column -= _width(this.#chars[start]);
      start++;
    }
    while (start < cursor && _width(this.#chars[start]) === 0) start++;
    let tail = this.#widthOf(start, length);
    while (start > 0 && tail + _width(this.#chars[start - 1]) <= room) {
      start--;
      tail += _width(this.#chars[start]);
    }
    this.#viewStart = start;
  }
}
