/**
 * Room sync: what a room's history shows and when. On the first join, the
 * recent context as one block; after a reconnect, a catch-up from the last
 * message received, page by page; on /load, an earlier page as one block.
 * Each block is announced by a history event that says how many older
 * messages this client cannot read.
 * @module
 */
import type { HistoryEndFrame } from "../shared/protocol.ts";
import { MAX_HISTORY_PAGE } from "../shared/protocol.ts";
import type { EngineContext } from "./engine_context.ts";
import type { RoomView } from "./room_view.ts";

/** Messages shown as recent context when a room is first joined. */
export const INITIAL_HISTORY = 50;

/** History requests and the blocks they bring, for every room. */
export class RoomSync {
  #ctx: EngineContext;

  /** Sync over the shared engine state. */
  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** Ask for recent context (first time) or for everything missed (after a reconnect). */
  requestSync(room: RoomView): void {
    if (room.syncedSeq === undefined) {
      room.beginHistory("initial");
      this.#ctx.link.write({
        t: "history",
        room: room.name,
        before: Number.MAX_SAFE_INTEGER,
        limit: INITIAL_HISTORY,
      });
    } else {
      room.beginHistory("after");
      this.#ctx.link.write({
        t: "history",
        room: room.name,
        after: room.syncedSeq,
        limit: MAX_HISTORY_PAGE,
      });
    }
  }

  /**
   * Page back through `room`'s history: up to `limit` messages older than
   * the oldest one seen. Resolves how many came (0: nothing older), or null
   * when it could not be asked or answered (the reason was reported).
   */
  async loadOlder(room: string, limit: number): Promise<number | null> {
    const { rooms, link, say, transcript, pending } = this.#ctx;
    let view = rooms.get(room);
    // typed (or piped) before the room's history arrived: wait for it
    while (view && link.connected && view.historyMode !== null) {
      await view.whenHistoryIdle();
      view = rooms.get(room);
    }
    if (!view || !link.connected) {
      say.error(
        view
          ? "not connected; try again when the connection is back"
          : `you are not in ${say.label(room)}`,
      );
      return null;
    }
    view.beginHistory("load");
    const answered = pending.wait<number | null>(`load:${room}`, null);
    link.write({
      t: "history",
      room,
      before: transcript.oldestSeq(room) ?? Number.MAX_SAFE_INTEGER,
      limit: Math.min(limit, MAX_HISTORY_PAGE),
    });
    return await answered;
  }

  /** The server finished a history answer. */
  onHistoryEnd(frame: HistoryEndFrame): void {
    const room = this.#ctx.rooms.get(frame.room);
    if (!room) return;
    const mode = room.historyMode;
    if (mode === "after") {
      if (frame.more) {
        this.#ctx.link.write({
          t: "history",
          room: room.name,
          after: room.catchUpCursor,
          limit: MAX_HISTORY_PAGE,
        });
        return;
      }
      room.markSynced(frame.lastSeq, true);
    } else if (mode === "initial") {
      room.markSynced(frame.lastSeq, true);
      this.#showBlock(room, "join", frame);
    } else if (mode === "load") {
      this.#showBlock(room, "load", frame);
      this.#ctx.pending.answer(`load:${room.name}`, frame.count);
    }
    room.settleHistory();
  }

  /** The history request of `room` failed: show what it brought and stop waiting. */
  failed(room: RoomView): void {
    this.#flush(room);
    room.settleHistory();
    this.#ctx.pending.answer(`load:${room.name}`, null);
  }

  /** The connection ended: show what half-answered requests brought. */
  connectionEnded(): void {
    for (const room of this.#ctx.rooms.values()) {
      this.#flush(room);
      room.settleHistory();
    }
  }

  /**
   * Show the history page just received as one block, oldest first, after
   * a header event; say how many older messages this client cannot read.
   */
  #showBlock(
    room: RoomView,
    reason: "join" | "load",
    frame: HistoryEndFrame,
  ): void {
    const block = room.takeBlock();
    const unreadable = frame.more ? 0 : this.#unreadableBelow(room.name, frame);
    if (reason === "join" && block.length === 0 && unreadable === 0) return;
    this.#announce(room.name, reason, block.length, unreadable);
    for (const event of block) this.#ctx.say.event(event);
  }

  /** A history request ended early: show what it brought (it is in the transcript). */
  #flush(room: RoomView): void {
    const reason = room.historyMode === "load" ? "load" : "join";
    const block = room.takeBlock();
    if (block.length === 0) return;
    this.#announce(room.name, reason, block.length, 0);
    for (const event of block) this.#ctx.say.event(event);
  }

  #announce(
    room: string,
    reason: "join" | "load",
    count: number,
    unreadable: number,
  ): void {
    this.#ctx.say.event({ type: "history", room, reason, count, unreadable });
  }

  /**
   * Stored messages older than the oldest one we can read: sequence
   * numbers are gapless per room, so it is a subtraction.
   */
  #unreadableBelow(room: string, frame: HistoryEndFrame): number {
    const first = frame.firstSeq ?? 0;
    if (first <= 0) return 0;
    const oldest = this.#ctx.transcript.oldestSeq(room) ?? frame.lastSeq + 1;
    return Math.max(0, oldest - first);
  }
}
