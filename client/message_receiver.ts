/**
 * Receiving: sender keys unwrapped, messages verified and decrypted, checked
 * against replays, recorded in the transcript and reported (a history
 * block's messages are held by the room until the block is complete).
 * Our own messages are reported once the server acknowledged them.
 * @module
 */
import type { MessageBody } from "../shared/crypto/envelope.ts";
import { ReplayGuard } from "../shared/crypto/replay_guard.ts";
import { unwrapSenderKey } from "../shared/crypto/sender_key.ts";
import { CryptoError } from "../shared/errors.ts";
import { userKey } from "../shared/names.ts";
import { openMessageFrame } from "../shared/message_frame.ts";
import type { KeyFrame, MessageFrame } from "../shared/protocol.ts";
import type { EngineContext } from "./engine_context.ts";
import type { MessageEvent } from "./events.ts";
import type { MessageSender } from "./message_sender.ts";
import type { RoomView } from "./room_view.ts";

/** The receiving half of a session. */
export class MessageReceiver {
  #ctx: EngineContext;
  #sender: MessageSender;
  #guard = new ReplayGuard();

  /** Our own messages' acknowledgements come through `sender`'s outbox. */
  constructor(ctx: EngineContext, sender: MessageSender) {
    this.#ctx = ctx;
    this.#sender = sender;
  }

  /** We left `room`: forget what was accepted there (a rejoin loads it afresh). */
  forgetRoom(room: string): void {
    this.#ctx.transcript.forget(room);
    this.#guard.forgetRoom(room);
  }

  /** A member's sender key, wrapped for us. */
  async onKey(frame: KeyFrame): Promise<void> {
    const room = this.#ctx.rooms.get(frame.room);
    const sender = this.#ctx.people.get(frame.from);
    if (!room || !sender) return;
    try {
      room.addSenderKey(
        await unwrapSenderKey(frame, {
          user: this.#ctx.me,
          decryptKey: this.#ctx.identity.decryptKey,
        }, sender.verifyKey),
      );
    } catch (error) {
      this.#ctx.say.error(
        `ignored a key from ${frame.from}: ${(error as Error).message}`,
      );
    }
  }

  /** A message, live or from history. */
  async onMessage(frame: MessageFrame): Promise<void> {
    const room = this.#ctx.rooms.get(frame.room);
    if (!room) return;
    const history = frame.history === true;
    const catchingUp = history && room.historyMode === "after";
    if (catchingUp) room.advanceCatchUp(frame.seq);
    if (!history && room.historyMode === null) room.markSynced(frame.seq);
    const body = await this.#decrypt(room, frame);
    if (!body) return;
    const own = userKey(frame.from) === this.#ctx.me;
    if (own && this.#sender.isPending(frame.id)) {
      // our message, committed before the ack could reach us: this is its ack
      this.#check(frame, true);
      this.onAck(frame.id, frame.room, frame.seq);
      return;
    }
    // A stored message is named by (room, seq): whatever route brings it
    // again (catch-up after an interrupted catch-up, paging), show it once.
    if (this.#ctx.transcript.has(frame.room, frame.seq)) return;
    if (!own && this.#ctx.trust.isIgnored(frame.from)) return;
    const verdict = this.#check(frame, history);
    if (verdict === "redelivery") return;
    if (verdict === "replay") {
      this.#ctx.say.error(
        `rejected a replayed message from ${frame.from} in ${
          this.#ctx.say.label(frame.room)
        }`,
      );
      return;
    }
    const from = this.#ctx.people.get(frame.from)?.user ?? frame.from;
    const event = this.#record(room, frame.seq, frame.ts, from, body, own);
    event.history = history && !catchingUp;
    if (event.history && room.historyMode !== null) {
      room.holdForBlock(event); // shown as one block at history_end
    } else {
      this.#ctx.say.event(event);
    }
  }

  /** The server stored our message `id` as `seq`. */
  onAck(id: string, roomName: string, seq: number): void {
    const message = this.#sender.acknowledge(id);
    if (!message) return;
    // The seq names the stored copy, which may be an earlier transmission
    // than the last one (the server deduplicates by id): already shown?
    if (this.#ctx.transcript.has(roomName, seq)) return;
    this.#guard.checkHistory(
      roomName,
      this.#ctx.me,
      message.epoch,
      message.counter,
      seq,
    );
    const room = this.#ctx.rooms.get(roomName);
    if (room?.historyMode === null) room.markSynced(seq);
    const from = this.#ctx.identity.user;
    this.#ctx.say.event(
      this.#record(room, seq, message.ts, from, message.body, true, roomName),
    );
  }

  /** Into the transcript (and the room's topic): the event to report. */
  #record(
    room: RoomView | undefined,
    seq: number,
    ts: number,
    from: string,
    body: MessageBody,
    own: boolean,
    roomName = room?.name ?? "",
  ): MessageEvent {
    this.#ctx.transcript.add(roomName, { seq, ts, from, ...body });
    if (body.kind === "topic") {
      room?.noteTopic({ text: body.text, from, ts, seq });
    }
    return {
      type: "message",
      room: roomName,
      from,
      text: body.text,
      ts,
      seq,
      history: false,
      own,
      kind: body.kind,
    };
  }

  #check(frame: MessageFrame, history: boolean) {
    const check = history
      ? this.#guard.checkHistory.bind(this.#guard)
      : this.#guard.checkLive.bind(this.#guard);
    return check(frame.room, frame.from, frame.epoch, frame.counter, frame.seq);
  }

  /** Verify and decrypt; reports and returns null on any failure. */
  async #decrypt(
    room: RoomView,
    frame: MessageFrame,
  ): Promise<MessageBody | null> {
    const sender = this.#ctx.people.get(frame.from);
    const key = room.senderKey(frame.from, frame.epoch);
    if (!sender || !key) {
      this.#ctx.say.error(
        `cannot decrypt a message from ${frame.from} in ${frame.room}: no key was shared with you for it`,
      );
      return null;
    }
    try {
      return await openMessageFrame(key, frame, sender.verifyKey);
    } catch (error) {
      const reason = error instanceof CryptoError ? error.message : "malformed";
      this.#ctx.say.error(`rejected a message from ${frame.from}: ${reason}`);
      return null;
    }
  }
}
