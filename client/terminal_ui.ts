/**
 * The interactive terminal: raw-mode input through the LineEditor, and
 * every incoming event printed above the input line so a half-typed line is
 * never garbled.
 * @module
 */
import { LineEditor } from "./line_editor.ts";
import type { ChatEvent } from "./events.ts";
import { EventRenderer, roomLabel } from "./render.ts";
import { writeStdout } from "./output.ts";

/** The interactive front end. Create it before the client so no event is missed. */
export class TerminalUi {
  #editor: LineEditor;
  #renderer: EventRenderer;
  #color: boolean;
  #me: string;
  #currentRoom: () => string;
  #active = false;

  /** `currentRoom` is asked on every render to label the prompt. */
  constructor(me: string, currentRoom: () => string) {
    this.#me = me.toLowerCase();
    this.#currentRoom = currentRoom;
    this.#color = !Deno.env.get("NO_COLOR");
    this.#editor = new LineEditor({ columns: columns() });
    this.#renderer = new EventRenderer({ color: this.#color, me });
  }

  /** Show one event above the input line. */
  show = (event: ChatEvent): void => {
    if (event.type === "clear") {
      // clear the screen and scrollback view, then redraw the input line
      writeStdout(
        "\x1b[H\x1b[2J" + (this.#active ? this.#editor.render() : ""),
      );
      return;
    }
    const text = this.#renderer.render(event, this.#currentRoom());
    if (text === "") return;
    if (!this.#active) {
      writeStdout(text + "\n");
      return;
    }
    this.#updatePrompt();
    writeStdout(this.#editor.printAbove(text));
  };

  #updatePrompt(): void {
    const label = `${roomLabel(this.#currentRoom(), this.#me)}> `;
    this.#editor.setPrompt(this.#color ? `\x1b[1m${label}\x1b[0m` : label);
  }

  /**
   * Read keys until the user quits or `closed` resolves (connection lost).
   * Each finished line goes to `onLine`; resolves "quit" or "closed".
   */
  async run(
    onLine: (line: string) => Promise<"quit" | "continue" | "retain">,
    closed: Promise<unknown>,
  ): Promise<"quit" | "closed"> {
    Deno.stdin.setRaw(true);
    const resize = () => {
      // a narrower window re-wraps the drawn line over several rows: go up
      // to its first row and clear to the end, or its head stays as a ghost
      const width = columns();
      const up = this.#editor.rowsAboveCursorAt(width);
      this.#editor.setColumns(width);
      writeStdout(
        (up > 0 ? `\x1b[${up}A` : "") + "\r\x1b[J" + this.#editor.render(),
      );
    };
    const canResize = Deno.build.os !== "windows";
    if (canResize) Deno.addSignalListener("SIGWINCH", resize);
    this.#active = true;
    this.#updatePrompt();
    writeStdout(this.#editor.render());
    const reader = Deno.stdin.readable.getReader();
    const decoder = new TextDecoder();
    const gone = closed.then(() => null);
    try {
      while (true) {
        const chunk = await Promise.race([reader.read(), gone]);
        if (chunk === null) return "closed";
        if (chunk.done) return "quit";
        const actions = this.#editor.feed(
          decoder.decode(chunk.value, { stream: true }),
        );
        for (const action of actions) {
          if (action.kind !== "submit") return "quit";
          writeStdout(this.#editor.render());
          const outcome = await onLine(action.line);
          if (outcome === "quit") return "quit";
          // refused (e.g. too long): the text goes back to the input line
          if (outcome === "retain") this.#editor.setLine(action.line);
          this.#updatePrompt();
          writeStdout(this.#editor.render());
        }
        writeStdout(this.#editor.render());
      }
    } finally {
      this.#active = false;
      await reader.cancel().catch(() => {});
      reader.releaseLock();
      if (canResize) Deno.removeSignalListener("SIGWINCH", resize);
      Deno.stdin.setRaw(false);
      writeStdout("\r\x1b[2K");
    }
  }
}

function columns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}
