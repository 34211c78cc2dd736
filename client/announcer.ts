/**
 * Where the engine's parts report to the user: events as they are, and
 * the two kinds of free text (information and errors), with rooms named the
 * way the user sees them (#general, dm bob).
 * @module
 */
import type { ChatEvent, EventSink } from "./events.ts";
import { roomLabel } from "./terminal_text.ts";

/** Reports to one user interface. */
export class Announcer {
  #sink: EventSink;
  #me: string;

  /** Report to `sink` for the user whose key is `me`. */
  constructor(sink: EventSink, me: string) {
    this.#sink = sink;
    this.#me = me;
  }

  /** Pass an event on as it is. */
  event(event: ChatEvent): void {
    this.#sink(event);
  }

  /** Information for the user; `warning` marks a key-change alarm. */
  system(message: string, warning = false): void {
    this.#sink({ type: "system", message, ...(warning ? { warning } : {}) });
  }

  /** Something failed; the message says what and what to do. */
  error(message: string): void {
    this.#sink({ type: "error", message });
  }

  /** How `room` is named to the user: #general, dm bob. */
  label(room: string): string {
    return roomLabel(room, this.#me);
  }
}
