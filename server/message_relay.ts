/**
 * Sender keys and messages: accept a key distribution, and accept a
 * message (validate → commit → acknowledge → relay). Every message a
 * session receives is preceded, once per connection, by the sender-key
 * wrap addressed to it. Replaying stored history is HistoryReplay's.
 * @module
 */
import { ProtocolError } from "../shared/errors.ts";
import { userKey } from "../shared/names.ts";
import type { KeysFrame, SendFrame } from "../shared/protocol.ts";
import { ciphertextBytes } from "../shared/crypto/envelope.ts";
import type { HubSession, HubState } from "./hub_state.ts";
import { keyFrame, keyId, messageFrame } from "./relay_frames.ts";
import type { RoomState, SenderState } from "./room_state.ts";
import { type StoredMessage, StoreError } from "./store/history_store.ts";

/** How early (before its token) a message may come and still be waited for. */
export const RATE_TOLERANCE_MS = 250;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Keys and messages for all rooms. */
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
    // what one user may have stored, per second: the store caps the total
    await this.#state.frameLimits.admitWraps(sender, wraps.size);
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
      return refuse(frame, "not_member", (error as Error).message);
    }
    if (await this.#ackedBefore(session, room, frame)) return;
    const senderState = await this.#accepted(session, room, frame);
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
    this.#relay(session, room, senderState, { ...envelope, seq });
  }

  /**
   * A repeat of a stored message (its ack was lost) is acknowledged again,
   * whatever key it was re-encrypted under: true when it was.
   */
  async #ackedBefore(
    session: HubSession,
    room: RoomState,
    frame: SendFrame,
  ): Promise<boolean> {
    let stored: number | null;
    try {
      stored = await this.#state.store.findMessageSeq(
        room.name,
        session.user.userKey,
        frame.id,
      );
    } catch (error) {
      throw this.#storeFailure(error, room.name, frame.id);
    }
    if (stored === null) return false;
    this.#state.send(session, {
      t: "ack",
      id: frame.id,
      room: room.name,
      seq: stored,
    });
    return true;
  }

  /**
   * Every check a new message must pass (mute, size, current key, counter,
   * rate), in that order; the sender's key state once it passed.
   */
  async #accepted(
    session: HubSession,
    room: RoomState,
    frame: SendFrame,
  ): Promise<SenderState> {
    const sender = session.user.userKey;
    const mute = await this.#state.admission.muteOf(
      session.fingerprint,
      session.user.idKey,
    );
    if (mute) {
      refuse(
        frame,
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
        frame,
        "too_large",
        `message exceeds ${this.#state.options.maxTextBytes} bytes`,
      );
    }
    const senderState = this.#currentKey(room, sender, frame);
    if (frame.counter <= senderState.lastCounter) {
      refuse(frame, "replay", `counter ${frame.counter} was already used`);
    }
    // only a message that passed every check spends a token
    if (!this.#state.takeMessageToken(sender)) {
      const o = this.#state.options;
      refuse(
        frame,
        "rate_limited",
        `slow down: at most ${o.rateBurst} messages at once, then ${o.ratePerSecond} per second; this one was NOT sent`,
      );
    }
    return senderState;
  }

  /** The sender's key state, if `frame` is under its current key for the current roster. */
  #currentKey(room: RoomState, sender: string, frame: SendFrame): SenderState {
    if (!room.keyIsCurrent(sender, frame.epoch)) {
      if (room.keyStoreFailed.has(sender)) {
        refuse(
          frame,
          "store_unavailable",
          "the server could not store your key, so this was NOT delivered; try again later",
        );
      }
      refuse(
        frame,
        "stale_key",
        `your sender key for ${room.name} is out of date; rotate`,
      );
    }
    return room.senders.get(sender)!;
  }

  /** Send a committed message to every other member told they are in the room. */
  #relay(
    session: HubSession,
    room: RoomState,
    senderState: SenderState,
    message: StoredMessage,
  ): void {
    const relayed = messageFrame(message, session.user.name, false);
    const wrapId = keyId(room.name, message.sender, message.epoch);
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
            message.epoch,
          );
        }
        s.sink.send(relayed);
      }
    }
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

  #storeFailure(error: unknown, room: string, id?: string): unknown {
    if (!(error instanceof StoreError)) return error;
    // a storage quota: the store says which; the message was not stored
    if (error.code === "quota_exceeded") {
      return new ProtocolError(error.code, error.message, {
        room,
        ...(id ? { id } : {}),
      });
    }
    this.#state.options.log(`storage failure: ${error.message}`);
    return new ProtocolError(
      "store_unavailable",
      "the server could not store this (its storage is full or failing); it was NOT delivered, try again later",
      { room, ...(id ? { id } : {}) },
    );
  }
}

/** Refuse `frame` with `code`: an error about its id and room. */
function refuse(frame: SendFrame, code: string, message: string): never {
  throw new ProtocolError(code, message, { id: frame.id, room: frame.room });
}
