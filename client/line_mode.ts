/**
 * The line mode for scripts and bots (stdin not a terminal): one message or
 * command per input line; events as plain text, or with --json one JSON
 * object per line. At end of input it waits for every acknowledgement.
 * @module
 */
import type { ChatEvent } from "./events.ts";
import { EventRenderer } from "./render.ts";
import { writeStdout } from "./output.ts";

/** Longest input line accepted, in UTF-16 code units; longer lines are skipped with an error. */
export const MAX_INPUT_LINE = 64 * 1024;

/**
 * C0 controls but tab and newline, DEL, C1 controls, soft hyphen, zero-width
 * and bidi-control characters: what `--json --escape` writes as `\uXXXX`.
 */
const INVISIBLE = new RegExp(
  "[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u00ad\\u061c" +
    "\\u180e\\u200b-\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2060-\\u2069" +
    "\\ufeff\\ufff9-\\ufffb]",
  "g",
);

/**
 * `text` with every control, bidi and zero-width character replaced by the
 * six characters of its `\uXXXX` escape, so that neither the JSON line nor
 * the string a script reads from it can move a cursor or reorder text.
 * @example
 * ```ts
 * import { escapeInvisible } from "./line_mode.ts";
 * console.assert(escapeInvisible("a\u202eb") === "a\\u202eb");
 * ```
 */
export function escapeInvisible(text: string): string {
  return text.replace(
    INVISIBLE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** JSON.stringify replacer: every string value through escapeInvisible. */
function escapingStrings(_key: string, value: unknown): unknown {
  return typeof value === "string" ? escapeInvisible(value) : value;
}

/**
 * Print events for a pipe: JSON lines (text exact, or with `escape` every
 * string through escapeInvisible) or uncoloured, sanitised text.
 */
export function lineModePrinter(
  json: boolean,
  me: string,
  currentRoom: () => string,
  escape = false,
): (event: ChatEvent) => void {
  const renderer = new EventRenderer({ color: false, me });
  return (event) => {
    if (event.type === "clear") return; // a terminal's business
    if (json) {
      const line = escape
        ? JSON.stringify(event, escapingStrings)
        : JSON.stringify(event);
      writeStdout(line + "\n");
      return;
    }
    const text = renderer.render(event, currentRoom());
    if (text !== "") writeStdout(text + "\n");
  };
}

/**
 * Split a byte stream into lines (without "\n" or a trailing "\r"). A line
 * longer than `maxLine` is reported through `onTooLong` and skipped.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  maxLine: number,
  onTooLong: () => void,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  let skipping = false;
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
      if (skipping) {
        skipping = false;
        continue;
      }
      yield line;
    }
    if (buffer.length > maxLine) {
      if (!skipping) onTooLong();
      skipping = true;
      buffer = "";
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0 && !skipping) yield buffer.replace(/\r$/, "");
}

/**
 * Feed every stdin line to `onLine` until end of input, "quit", or the
 * connection closing. Resolves "eof", "quit" or "closed".
 */
export async function runLineMode(
  onLine: (line: string) => Promise<"quit" | "continue" | "retain">,
  emit: (event: ChatEvent) => void,
  closed: Promise<unknown>,
): Promise<"eof" | "quit" | "closed"> {
  const lines = readLines(Deno.stdin.readable, MAX_INPUT_LINE, () =>
    emit({
      type: "error",
      message: `input line longer than ${MAX_INPUT_LINE} characters skipped`,
    }));
  const gone = closed.then(() => null);
  try {
    while (true) {
      const next = await Promise.race([lines.next(), gone]);
      if (next === null) return "closed";
      if (next.done) return "eof";
      if (await onLine(next.value) === "quit") return "quit";
    }
  } finally {
    // Do not await: the generator may be blocked on a read that only ends with stdin.
    lines.return(undefined).catch(() => {});
  }
}
