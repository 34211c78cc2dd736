/**
 * The decrypted transcript of each room, kept in memory in sequence order,
 * and its two file formats (text and JSON lines).
 * @module
 */
import type { MessageKind } from "../shared/crypto/envelope.ts";
import { sanitizeForTerminal } from "./render.ts";

/** One decrypted message as it goes into a saved transcript. */
export interface TranscriptEntry {
  seq: number;
  ts: number;
  from: string;
  kind: MessageKind;
  text: string;
}

/** Every message this client has decrypted, per room, by sequence number. */
export class Transcript {
  #rooms = new Map<string, Map<number, TranscriptEntry>>();

  /** Record a message (a repeated seq replaces nothing). */
  add(room: string, entry: TranscriptEntry): void {
    let entries = this.#rooms.get(room);
    if (!entries) this.#rooms.set(room, entries = new Map());
    if (!entries.has(entry.seq)) entries.set(entry.seq, entry);
  }

  /** True when the message `seq` of `room` was already recorded. */
  has(room: string, seq: number): boolean {
    return this.#rooms.get(room)?.has(seq) ?? false;
  }

  /** The messages of `room`, oldest first. */
  entries(room: string): TranscriptEntry[] {
    return [...(this.#rooms.get(room)?.values() ?? [])].sort((a, b) =>
      a.seq - b.seq
    );
  }

  /** Forget everything recorded for `room` (we left it). */
  forget(room: string): void {
    this.#rooms.delete(room);
  }

  /** The lowest sequence number seen in `room`, if any. */
  oldestSeq(room: string): number | undefined {
    let oldest: number | undefined;
    for (const seq of this.#rooms.get(room)?.keys() ?? []) {
      if (oldest === undefined || seq < oldest) oldest = seq;
    }
    return oldest;
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** Local date and time as `YYYY-MM-DD HH:MM:SS`. */
export function localTimestamp(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${
    pad(d.getHours())
  }:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Render entries as a text transcript (escape sequences neutralised) or JSON lines. */
export function formatTranscript(
  room: string,
  entries: TranscriptEntry[],
  format: "text" | "jsonl",
): string {
  if (format === "jsonl") {
    return entries.map((e) => JSON.stringify({ room, ...e }) + "\n").join("");
  }
  return entries.map((e) => {
    const who = sanitizeForTerminal(e.from);
    const text = sanitizeForTerminal(e.text);
    const line = e.kind === "me" ? `* ${who} ${text}` : `<${who}> ${text}`;
    return `${localTimestamp(e.ts)} ${line}\n`;
  }).join("");
}

/** The default file name: `chat-ROOM-YYYYMMDD-HHMMSS.txt` (or .jsonl). */
export function defaultTranscriptName(
  room: string,
  now: Date,
  format: "text" | "jsonl",
): string {
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${
    pad(now.getDate())
  }-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  const safeRoom = room.replace(/[^a-z0-9_-]/gi, "-");
  return `chat-${safeRoom}-${stamp}.${format === "jsonl" ? "jsonl" : "txt"}`;
}
