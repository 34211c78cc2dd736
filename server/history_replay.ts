/**
 * Replaying stored history: a page of the messages a member can decrypt
 * (before a seq, or after one when catching up), each preceded once per
 * connection by the sender-key wrap addressed to them, then a
 * `history_end` with the room's bounds.
 * @module
 */
import { ProtocolError } from "../shared/errors.ts";
import type { HistoryFrame } from "../shared/protocol.ts";
import type { HubSession, HubState } from "./hub_state.ts";
import { keyFrame, keyId, messageFrame } from "./relay_frames.ts";
import type { RoomState } from "./room_state.ts";
import { type StoredMessage, StoreError } from "./store/history_store.ts";

/** Pages of stored messages for members. */
export class HistoryReplay {
  #state: HubState;

  /** Replay over the hub's shared state. */
  constructor(state: HubState) {
    this.#state = state;
  }

  /** Replay stored messages the session's user can decrypt, then a history_end. */
  async replay(session: HubSession, frame: HistoryFrame): Promise<void> {
    const me = session.user.userKey;
    const room = this.#state.memberRoom(session, frame.room);
    const store = this.#state.store;
    const rows = await this.#reading(
      room,
      async () =>
        frame.after !== undefined
          ? await store.historyAfter(room.name, me, frame.after, frame.limit)
          : (await store.history(room.name, me, frame.before!, frame.limit))
            .reverse(),
    );
    for (const row of rows) await this.#sendRow(session, room, row);
    const [lastSeq, firstSeq] = await this.#reading(
      room,
      () => Promise.all([store.lastSeq(room.name), store.firstSeq(room.name)]),
    );
    this.#state.send(session, {
      t: "history_end",
      room: room.name,
      mode: frame.after !== undefined ? "after" : "before",
      count: rows.length,
      more: rows.length === frame.limit,
      lastSeq: Math.max(room.lastSeq, lastSeq),
      firstSeq,
    });
  }

  /** Read from the store; a storage failure is `history_unavailable`. */
  async #reading<T>(room: RoomState, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      this.#state.options.log(`storage failure: ${error.message}`);
      throw new ProtocolError(
        "history_unavailable",
        "the server could not read the history just now",
        { room: room.name },
      );
    }
  }

  /** One stored message, after the wrap of its key if not sent yet. */
  async #sendRow(
    session: HubSession,
    room: RoomState,
    row: StoredMessage,
  ): Promise<void> {
    const name = (await this.#state.registry.get(row.sender))?.name ??
      row.sender;
    await this.#sendStoredKey(session, room, row.sender, name, row.epoch);
    session.sink.send(messageFrame(row, name, true));
    // a page can be larger than the send queue: let it drain as we go
    if (session.sink.queuedBytes > this.#state.options.maxQueueBytes / 2) {
      await session.sink.drain();
    }
  }

  /** Send the stored wrap of any epoch, once per connection. */
  async #sendStoredKey(
    recipient: HubSession,
    room: RoomState,
    sender: string,
    senderName: string,
    epoch: number,
  ): Promise<void> {
    const id = keyId(room.name, sender, epoch);
    if (recipient.sentKeys.has(id)) return;
    const wrap = await this.#state.store.getWrap(
      room.name,
      sender,
      epoch,
      recipient.user.userKey,
    );
    if (!wrap) return;
    recipient.sentKeys.add(id);
    this.#state.send(
      recipient,
      keyFrame(room.name, senderName, epoch, wrap.roster, wrap),
    );
  }
}
