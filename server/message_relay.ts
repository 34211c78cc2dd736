/**
 * Sender keys and messages: accept a key distribution, accept a message
 * (validate → commit → acknowledge → relay), and replay stored history.
 * Every message a session receives is preceded, once per connection, by the
 * sender-key wrap addressed to it.
 * @module
 */
import { encodeFrameBody } from "../shared/codec.ts";
import { ProtocolError } from "../shared/errors.ts";
import { utf8 } from "../shared/bytes.ts";
import { userKey } from "../shared/names.ts";
import type {
  HistoryFrame,
  KeysFrame,
  SendFrame,
  ServerFrame,
} from "../shared/protocol.ts";
import { ciphertextBytes } from "../shared/crypto/envelope.ts";
import type { HubSession, HubState } from "./hub_state.ts";
import type { RoomState, SenderState } from "./room_state.ts";
import { type StoredMessage, StoreError } from "./store/history_store.ts";

/** How early (before its token) a message may come and still be waited for. */
export const RATE_TOLERANCE_MS = 250;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Keys, messages and history for all rooms. */
export class MessageRelay {
  #state: HubState;
  #maxCiphertextChars: number;

  /** A relay over the hub's shared state. */
  constructor(state: HubState) {
    this.#state = state;
    // the body is one kind byte plus the text; base64url adds a third
    this.#maxCiphertextChars = Math.ceil(
      (ciphertextBytes(state.options.maxTextBytes) * 4) / 3,
    );
  }

  /** Accept a new sender key for a room: current roster, newer epoch, members only. */
  async keys(session: HubSession, frame: KeysFrame): Promise<void> {
    const sender = session.user.userKey;
    const room = this.#state.memberRoom(session, frame.room);
    if (frame.roster !== room.roster) {
      throw new ProtocolError(
        "stale_roster",
        `the roster of ${room.name} changed; rotate again`,
        { room: room.name },
      );
    }
    const latest = room.senders.get(sender)?.epoch ??
      await this.#state.store.latestEpoch(room.name, sender);
    if (frame.epoch <= latest) {
      throw new ProtocolError(
        "bad_epoch",
        `epoch ${frame.epoch} is not after ${latest}`,
        { room: room.name, epoch: latest },
      );
    }
    const wraps = new Map<string, { wrap: string; sig: string }>();
    for (const w of frame.wraps) {
      const to = userKey(w.to);
      if (!room.members.has(to) || wraps.has(to)) {
        throw new ProtocolError(
          "bad_frame",
          `keys: ${w.to} is not a member of ${room.name} or appears twice`,
        );
      }
      wraps.set(to, { wrap: w.wrap, sig: w.sig });
    }
    if (!wraps.has(sender)) {
      throw new ProtocolError(
        "bad_frame",
        "keys: include a wrap for yourself (your history and other devices need it)",
      );
    }
    try {
      await this.#state.store.saveSenderKey(
        [...wraps].map(([recipient, w]) => ({
          room: room.name,
          sender,
          epoch: frame.epoch,
          roster: frame.roster,
          recipient,
          wrap: w.wrap,
          sig: w.sig,
        })),
      );
    } catch (error) {
      if (error instanceof StoreError) {
        room.senders.delete(sender);
        room.keyStoreFailed.add(sender);
      }
      throw this.#storeFailure(error, room.name);
    }
    room.keyStoreFailed.delete(sender);
    room.senders.set(sender, {
      epoch: frame.epoch,
      roster: frame.roster,
      lastCounter: -1,
      wraps,
    });
  }

  /** Validate, commit, acknowledge, then relay one message. */
  async message(session: HubSession, frame: SendFrame): Promise<void> {
    const sender = session.user.userKey;
    const refuse = (code: string, message: string): never => {
      throw new ProtocolError(code, message, {
        id: frame.id,
        room: frame.room,
      });
    };
    // A client paces itself to the rate it was told at login, but its clock
    // and the network are not ours: a message at most RATE_TOLERANCE_MS
    // early waits for its token (the session handles its frames one at a
    // time, so order is kept) instead of being refused; a flood is refused.
    const early = this.#state.messageTokenWait(sender);
    if (early > 0 && early <= RATE_TOLERANCE_MS) await delay(early);
    let room: RoomState;
    try {
      room = this.#state.memberRoom(session, frame.room);
    } catch (error) {
      return refuse("not_member", (error as Error).message);
    }
    // A repeat of a stored message (its ack was lost) is acknowledged again,
    // whatever key it was re-encrypted under.
    let stored: number | null;
    try {
      stored = await this.#state.store.findMessageSeq(
        room.name,
        sender,
        frame.id,
      );
    } catch (error) {
      throw this.#storeFailure(error, room.name, frame.id);
    }
    if (stored !== null) {
      this.#state.send(session, {
        t: "ack",
        id: frame.id,
        room: room.name,
        seq: stored,
      });
      return;
    }
    const mute = await this.#state.admission.muteOf(
      session.fingerprint,
      session.user.idKey,
    );
    if (mute) {
      refuse(
        "muted",
        `you are muted ${
          mute.until === null
            ? "until an operator lifts it"
            : `until ${new Date(mute.until).toISOString()}`
        }; this was NOT sent`,
      );
    }
    if (frame.ct.length > this.#maxCiphertextChars) {
      refuse(
        "too_large",
        `message exceeds ${this.#state.options.maxTextBytes} bytes`,
      );
    }
    if (!room.keyIsCurrent(sender, frame.epoch)) {
      if (room.keyStoreFailed.has(sender)) {
        refuse(
          "store_unavailable",
          "the server could not store your key, so this was NOT delivered; try again later",
        );
      }
      refuse(
        "stale_key",
        `your sender key for ${room.name} is out of date; rotate`,
      );
    }
    const senderState = room.senders.get(sender)!;
    if (frame.counter <= senderState.lastCounter) {
      refuse("replay", `counter ${frame.counter} was already used`);
    }
    // only a message that passed every check spends a token
    if (!this.#state.takeMessageToken(sender)) {
      const o = this.#state.options;
      refuse(
        "rate_limited",
        `slow down: at most ${o.rateBurst} messages at once, then ${o.ratePerSecond} per second; this one was NOT sent`,
      );
    }
    const envelope = {
      room: room.name,
      id: frame.id,
      sender,
      epoch: frame.epoch,
      counter: frame.counter,
      ts: frame.ts,
      iv: frame.iv,
      ct: frame.ct,
      sig: frame.sig,
    };
    let seq: number, duplicate: boolean;
    try {
      ({ seq, duplicate } = await this.#state.store.appendMessage(envelope));
    } catch (error) {
      throw this.#storeFailure(error, room.name, frame.id);
    }
    this.#state.send(session, { t: "ack", id: frame.id, room: room.name, seq });
    if (duplicate) return;
    senderState.lastCounter = Math.max(senderState.lastCounter, frame.counter);
    room.lastSeq = Math.max(room.lastSeq, seq);
    const relayed = messageFrame(
      { ...envelope, seq },
      session.user.name,
      false,
    );
    const wrapId = keyId(room.name, sender, frame.epoch);
    // Someone who joined while this message was being committed has no wrap
    // of its key: it was accepted before they were in, it is not theirs.
    const rosterChanged = room.roster !== senderState.roster;
    for (const member of room.members) {
      if (rosterChanged && !senderState.wraps.has(member)) continue;
      for (const s of this.#state.online.get(member) ?? []) {
        if (s === session || !s.joinedRooms.has(room.name)) continue;
        if (!s.sentKeys.has(wrapId)) {
          this.#sendCurrentKey(
            s,
            wrapId,
            room,
            senderState,
            session.user.name,
            frame.epoch,
          );
        }
        s.sink.send(relayed);
      }
    }
  }

  /** Replay stored messages the session's user can decrypt, then a history_end. */
  async history(session: HubSession, frame: HistoryFrame): Promise<void> {
    const me = session.user.userKey;
    const room = this.#state.memberRoom(session, frame.room);
    const store = this.#state.store;
    let rows: StoredMessage[];
    try {
      rows = frame.after !== undefined
        ? await store.historyAfter(room.name, me, frame.after, frame.limit)
        : (await store.history(room.name, me, frame.before!, frame.limit))
          .reverse();
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      this.#state.options.log(`storage failure: ${error.message}`);
      throw new ProtocolError(
        "history_unavailable",
        "the server could not read the history just now; try /load again later",
        { room: room.name },
      );
    }
    for (const row of rows) {
      const name = (await this.#state.registry.get(row.sender))?.name ??
        row.sender;
      await this.#sendStoredKey(session, room, row.sender, name, row.epoch);
      session.sink.send(messageFrame(row, name, true));
      // a page can be larger than the send queue: let it drain as we go
      if (session.sink.queuedBytes > this.#state.options.maxQueueBytes / 2) {
        await session.sink.drain();
      }
    }
    this.#state.send(session, {
      t: "history_end",
      room: room.name,
      mode: frame.after !== undefined ? "after" : "before",
      count: rows.length,
      more: rows.length === frame.limit,
      lastSeq: Math.max(room.lastSeq, await store.lastSeq(room.name)),
      firstSeq: await store.firstSeq(room.name),
    });
  }

  /** Send the wrap of the sender's current key (first message of that key on this connection). */
  #sendCurrentKey(
    recipient: HubSession,
    wrapId: string,
    room: RoomState,
    state: SenderState | undefined,
    senderName: string,
    epoch: number,
  ): void {
    recipient.sentKeys.add(wrapId);
    const wrap = state?.epoch === epoch
      ? state.wraps.get(recipient.user.userKey)
      : undefined;
    if (!wrap || !state) return; // not encrypted to them: they will say so
    this.#state.send(
      recipient,
      keyFrame(room.name, senderName, epoch, state.roster, wrap),
    );
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

  #storeFailure(error: unknown, room: string, id?: string): unknown {
    if (!(error instanceof StoreError)) return error;
    this.#state.options.log(`storage failure: ${error.message}`);
    return new ProtocolError(
      "store_unavailable",
      "the server could not store this (its storage is full or failing); it was NOT delivered, try again later",
      { room, ...(id ? { id } : {}) },
    );
  }
}

/** Names one sender key in a session's set of keys already sent. */
function keyId(room: string, sender: string, epoch: number): string {
  return `${room}\u0000${sender}\u0000${epoch}`;
}

function keyFrame(
  room: string,
  from: string,
  epoch: number,
  roster: number,
  wrap: { wrap: string; sig: string },
): ServerFrame {
  return {
    t: "key",
    room,
    from,
    epoch,
    roster,
    wrap: wrap.wrap,
    sig: wrap.sig,
  };
}

/** One message frame, encoded once for every recipient. */
function messageFrame(
  m: StoredMessage,
  from: string,
  history: boolean,
): Uint8Array {
  return encodeFrameBody(utf8(JSON.stringify({
    t: "msg",
    room: m.room,
    from,
    seq: m.seq,
    id: m.id,
    epoch: m.epoch,
    counter: m.counter,
    ts: m.ts,
    iv: m.iv,
    ct: m.ct,
    sig: m.sig,
    ...(history ? { history: true } : {}),
  })));
}
