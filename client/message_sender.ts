/**
 * Sending: the outbox of unacknowledged messages, pacing to the server's
 * rate, sender-key rotation (a new key wrapped for every member we may
 * encrypt to) and sealing. Messages go one at a time, oldest first, so a
 * message sent again goes before the ones typed after it.
 * @module
 */
import { utf8 } from "../shared/bytes.ts";
import type { MessageBody } from "../shared/crypto/envelope.ts";
import { newSenderKey } from "../shared/crypto/sender_key.ts";
import { wrapKeysFrame } from "../shared/keys_frame.ts";
import { DEFAULT_LIMITS } from "../shared/limits.ts";
import { sealMessageFrame } from "../shared/message_frame.ts";
import type { EngineContext } from "./engine_context.ts";
import { Outbox, type OutgoingMessage } from "./outbox.ts";
import { pacedRate, pacerFor } from "./pacer.ts";
import type { RoomView } from "./room_view.ts";

/** Whether send() queued the message or refused it (the reason was reported). */
export type SendResult = "queued" | "refused";

/** What became of a message the server refused. */
export type RefusalOutcome = "retried" | "dropped" | "unknown";

/** Refusals after which a message is sealed again under a fresh key. */
const RETRYABLE = new Set(["stale_key", "replay"]);
/**
 * How often a message is retried after such refusals on one connection.
 * While someone churns a room's roster every key we send can go stale
 * before it lands: keep trying, with growing waits (RETRY_BACKOFF_MS,
 * doubling to RETRY_BACKOFF_MAX_MS: about a minute in all) until the roster
 * holds still long enough — the server lets a user change membership only
 * so often, so it does.
 */
const MAX_TRIES = 40;
/** The first wait before a stale-key retry… */
const RETRY_BACKOFF_MS = 25;
/** …doubling up to this. */
const RETRY_BACKOFF_MAX_MS = 2_000;

/** The sending half of a session. */
export class MessageSender {
  #ctx: EngineContext;
  #outbox: Outbox;
  /** Paced to the defaults (10 at once, 2/s) until a server tells its own. */
  #pacer = pacerFor(10, 2);
  #chain: Promise<void> = Promise.resolve();
  #pacing: { timer: ReturnType<typeof setTimeout>; wake: () => void } | null =
    null;
  #maxTextBytes: number = DEFAULT_LIMITS.maxTextBytes;
  #refused = 0;
  #closing = false;
  #retryTimers = new Set<ReturnType<typeof setTimeout>>();
  /** Ids of messages waiting out a retry backoff. */
  #held = new Set<string>();

  /** At most `maxPending` messages wait for acknowledgement at once. */
  constructor(ctx: EngineContext, maxPending: number) {
    this.#ctx = ctx;
    this.#outbox = new Outbox(maxPending);
  }

  /** Messages sent but not yet acknowledged. */
  get pendingCount(): number {
    return this.#outbox.size;
  }

  /** Messages the server refused for good (not retried). */
  get refusedCount(): number {
    return this.#refused;
  }

  /** Adopt the limits a server announced in its hello. */
  adoptLimits(
    maxTextBytes: number,
    rate: { burst?: number | undefined; perSecond?: number | undefined },
  ): void {
    this.#maxTextBytes = maxTextBytes;
    if (rate.burst !== undefined && rate.perSecond) {
      const paced = pacedRate(rate.burst, rate.perSecond);
      this.#pacer.setRate(paced.burst, paced.perSecond);
    }
  }

  /** Queue `body` for `room`; "refused" (the reason reported) when it cannot go. */
  send(room: string, body: MessageBody): SendResult {
    const say = this.#ctx.say;
    if (!this.#ctx.rooms.has(room)) {
      say.error(`you are not in ${say.label(room)}; /join a room first`);
      return "refused";
    }
    const size = utf8(body.text).length;
    if (size > this.#maxTextBytes) {
      say.error(
        `message not sent: ${size} bytes is over the ${this.#maxTextBytes}-byte limit`,
      );
      return "refused";
    }
    const message = this.#outbox.add(room, body);
    if (!message) {
      say.error(
        "message not sent: too many messages await the server; slow down",
      );
      return "refused";
    }
    if (!this.#ctx.link.connected) {
      say.system(
        `not connected: message queued (${this.#outbox.size} waiting)`,
      );
    }
    this.#queue();
    return "queued";
  }

  /** `room` was joined on a new connection: send what waits for it. */
  resumeRoom(room: string): void {
    const conn = this.#ctx.link.connection;
    if (!conn) return;
    for (const _ of this.#outbox.unsentOn(room, conn)) this.#queue();
  }

  /** The server acknowledged `id`: it leaves the outbox (returned if it was ours). */
  acknowledge(id: string): OutgoingMessage | undefined {
    const message = this.#outbox.get(id);
    if (message) this.#outbox.delete(id);
    return message;
  }

  /** True while `id` waits for its acknowledgement. */
  isPending(id: string): boolean {
    return this.#outbox.get(id) !== undefined;
  }

  /**
   * The server refused message `id` with `code`: send it again (the rate,
   * a stale key) or drop it for good.
   */
  refused(
    id: string,
    code: string,
    room: RoomView | undefined,
  ): RefusalOutcome {
    const message = this.#outbox.get(id);
    if (!message) return "unknown";
    if (code === "rate_limited") {
      // the user's other devices spent the server's tokens too: wait a
      // full interval and send it again; typed text is never dropped
      this.#pacer.empty();
      return this.#again(message);
    }
    if (RETRYABLE.has(code) && message.tries < MAX_TRIES) {
      message.tries++;
      room?.invalidateKeyOf(message.epoch);
      return this.#againLater(message);
    }
    this.#refused++;
    this.#outbox.delete(id);
    return "dropped";
  }

  /** Resolves once one more message fits in the outbox (or the session gave up). */
  whenCanSend(): Promise<void> {
    return this.#outbox.whenRoom();
  }

  /** Resolves when every message is acknowledged (or the session gave up). */
  whenEmpty(): Promise<void> {
    return this.#outbox.whenEmpty();
  }

  /** The session ends (or was refused): nobody waits for sending any more. */
  stop(closing: boolean): void {
    if (closing) {
      this.#closing = true;
      for (const timer of this.#retryTimers) clearTimeout(timer);
      this.#retryTimers.clear();
      if (this.#pacing) {
        clearTimeout(this.#pacing.timer);
        this.#pacing.wake();
        this.#pacing = null;
      }
    }
    this.#outbox.wakeAll();
  }

  /** Send `message` again after a backoff that grows with its tries. */
  #againLater(message: OutgoingMessage): RefusalOutcome {
    const ms = Math.min(
      RETRY_BACKOFF_MAX_MS,
      RETRY_BACKOFF_MS * 2 ** Math.max(0, message.tries - 2),
    );
    // the first retry goes at once (one stale key is the common case)
    if (message.tries <= 1) return this.#again(message);
    message.sentOn = null;
    // held back: neither it nor (to keep the typed order) those after it
    // go until the wait is over
    this.#held.add(message.id);
    const timer = setTimeout(() => {
      this.#retryTimers.delete(timer);
      this.#held.delete(message.id);
      this.#queue();
    }, ms);
    this.#retryTimers.add(timer);
    return "retried";
  }

  #again(message: OutgoingMessage): RefusalOutcome {
    message.sentOn = null;
    this.#queue();
    return "retried";
  }

  /** One more message may go: the oldest one not yet sent on this connection. */
  #queue(): void {
    this.#chain = this.#chain.then(() => this.#transmitOldest());
  }

  async #transmitOldest(): Promise<void> {
    const conn = this.#ctx.link.connection;
    if (!conn) return; // queued again when a room is joined on the next one
    const message = this.#outbox.oldest((m) =>
      m.sentOn !== conn && (this.#ctx.rooms.get(m.room)?.live ?? true)
    );
    if (!message || this.#held.has(message.id)) return;
    try {
      await this.#transmit(message);
    } catch (error) {
      this.#refused++;
      this.#outbox.delete(message.id);
      this.#ctx.say.error(`message not sent: ${(error as Error).message}`);
    }
  }

  async #transmit(message: OutgoingMessage): Promise<void> {
    const room = this.#ctx.rooms.get(message.room);
    if (!room) {
      throw new Error(
        `you are no longer in ${this.#ctx.say.label(message.room)}`,
      );
    }
    if (!this.#ctx.link.connected || !room.live) return; // resumed on joining
    await this.#paced();
    const conn = this.#ctx.link.connection;
    if (!conn || !room.live || !this.#outbox.get(message.id)) return;
    if (room.needsRotation()) await this.#rotate(room);
    const key = room.myKey!;
    const header = {
      room: room.name,
      sender: this.#ctx.me,
      epoch: key.epoch,
      counter: room.takeCounter(),
      // a re-sent message keeps the time it was first written
      ts: message.ts || Date.now(),
    };
    const frame = await sealMessageFrame(
      key,
      header,
      message.body,
      this.#ctx.identity.signingKey,
      message.id,
    );
    if (conn !== this.#ctx.link.connection) return; // gone while sealing
    message.epoch = header.epoch;
    message.counter = header.counter;
    message.ts = header.ts;
    message.sentOn = conn;
    this.#ctx.link.write(frame);
  }

  /**
   * Wait until the server's rate lets one more message go, then spend it.
   * Transmissions are chained, so the wait keeps them in typed order.
   */
  async #paced(): Promise<void> {
    let delay = this.#pacer.msUntilToken();
    while (delay > 0 && !this.#closing) {
      await new Promise<void>((wake) => {
        const timer = setTimeout(() => {
          this.#pacing = null;
          wake();
        }, delay);
        this.#pacing = { timer, wake };
      });
      delay = this.#pacer.msUntilToken();
    }
    this.#pacer.take();
  }

  /** New sender key for `room`, wrapped for every member we may encrypt to. */
  async #rotate(room: RoomView): Promise<void> {
    const key = newSenderKey(room.name, this.#ctx.me, room.takeEpoch());
    // One roster version for the signatures and the frame, read before the
    // awaits: a presence arriving while wrapping must not split them.
    const roster = room.roster;
    const recipients = [...room.members.values()].filter((m) => {
      if (!this.#ctx.trust.isBlocked(m.key)) return true;
      this.#ctx.say.system(
        `not encrypting to ${m.user} in ${
          this.#ctx.say.label(room.name)
        }: their key changed after you verified it; /whois ${m.user} then /verify`,
        true,
      );
      return false;
    });
    this.#ctx.link.write(
      await wrapKeysFrame(
        key,
        roster,
        recipients.map((m) => ({ user: m.key, encryptKey: m.encryptKey })),
        this.#ctx.identity.signingKey,
      ),
    );
    // if the roster moved meanwhile, this key is stale and the next send rotates
    room.adoptOwnKey(key, roster);
  }
}
