/**
 * A sender's side of end-to-end encryption, as client/chat_client.ts does
 * it: rotate the sender key whenever the roster changed (new key, RSA-OAEP
 * wrap + Ed25519 signature for every member, one `keys` frame), then seal
 * each message into its `msg` frame (shared/message_frame.ts: HKDF →
 * AES-256-GCM, signed) in order, and re-send with the
 * same id after `stale_key` / `replay`, up to five times.
 * @module
 */
import { newSenderKey, type SenderKey } from "../shared/crypto/sender_key.ts";
import { wrapKeysFrame } from "../shared/keys_frame.ts";
import { sealMessageFrame } from "../shared/message_frame.ts";
import { userKey } from "../shared/names.ts";
import type {
  ClientFrame,
  ErrorFrame,
  MemberInfo,
} from "../shared/protocol.ts";
import { now } from "./clock.ts";
import { stampedText } from "./payload.ts";
import type { WorkerContext } from "./worker_context.ts";

/** What a sender needs from the member it belongs to. */
export interface SenderHooks {
  name: string;
  room: string;
  signingKey: CryptoKey;
  payloadBytes: number;
  ctx: WorkerContext;
  /** The live roster (user key → info) and its version. */
  members: Map<string, MemberInfo>;
  roster(): number;
  /** False once the connection is gone. */
  open(): boolean;
  write(frame: ClientFrame): void;
}

const RETRYABLE = new Set(["stale_key", "replay"]);

/** One member's sender key and outgoing messages. */
export class MessageSender {
  /** Messages of the measured phase queued to the socket (first transmissions). */
  sentMeasured = 0;
  /** …and refused for good by the server. */
  refusedMeasured = 0;
  #h: SenderHooks;
  #nextEpoch = 1;
  #myKey: SenderKey | null = null;
  #myKeyRoster = -1;
  #counter = 0;
  #chain: Promise<void> = Promise.resolve();
  #pending = new Map<string, { text: string; tries: number }>();

  /** A sender with no key yet: its first message rotates. */
  constructor(hooks: SenderHooks) {
    this.#h = hooks;
  }

  /** The server's word on our highest epoch (joined.epoch, bad_epoch). */
  epochAtLeast(epoch: number): void {
    this.#nextEpoch = Math.max(this.#nextEpoch, epoch + 1);
  }

  /** Queue one message (sealed in order, like the client's send chain). */
  send(due: number | null): Promise<void> {
    this.#queue(() => this.#transmit(due, null));
    return this.#chain;
  }

  /** Resolves when everything queued has been written. */
  settled(): Promise<void> {
    return this.#chain;
  }

  /** The server committed message `id`. */
  acked(id: string): void {
    this.#pending.delete(id);
  }

  /** An error frame after login: forget the key, retry, or count a refusal. */
  refused(frame: ErrorFrame): void {
    if (frame.code === "stale_roster" || frame.code === "store_unavailable") {
      this.#myKey = null;
    }
    if (frame.code === "bad_epoch") {
      this.epochAtLeast(frame.epoch ?? 0);
      this.#myKey = null;
    }
    const pending = frame.id ? this.#pending.get(frame.id) : undefined;
    if (!frame.id || !pending) return;
    if (RETRYABLE.has(frame.code) && pending.tries < 5) {
      pending.tries++;
      this.#myKey = null;
      const id = frame.id;
      this.#queue(() => this.#transmit(null, id));
      return;
    }
    this.#pending.delete(frame.id);
    if (this.#h.ctx.measuring) this.refusedMeasured++;
  }

  #queue(work: () => Promise<void>): void {
    this.#chain = this.#chain.then(work).catch((error) => {
      this.#h.ctx.error(
        `${this.#h.name}: send failed: ${(error as Error).message}`,
      );
    });
  }

  async #transmit(due: number | null, resend: string | null): Promise<void> {
    const h = this.#h;
    if (!h.open()) return;
    if (this.#myKey === null || this.#myKeyRoster !== h.roster()) {
      await this.#rotate();
    }
    const key = this.#myKey!;
    const started = now();
    if (due !== null) {
      h.ctx.maxSendLagMs = Math.max(h.ctx.maxSendLagMs, started - due);
    }
    const id = resend ?? crypto.randomUUID();
    const pending = resend ? this.#pending.get(resend) : undefined;
    const text = pending?.text ?? stampedText(started, h.payloadBytes);
    const header = {
      room: h.room,
      sender: userKey(h.name),
      epoch: key.epoch,
      counter: this.#counter++,
      ts: Date.now(),
    };
    h.write(
      await sealMessageFrame(
        key,
        header,
        { kind: "text", text },
        h.signingKey,
        id,
      ),
    );
    if (!pending) {
      this.#pending.set(id, { text, tries: 0 });
      if (h.ctx.measuring) this.sentMeasured++;
    }
  }

  /** New sender key wrapped for every member (the roster is read once). */
  async #rotate(): Promise<void> {
    const h = this.#h;
    const roster = h.roster();
    const key = newSenderKey(h.room, h.name, this.#nextEpoch++);
    const recipients = await Promise.all(
      [...h.members.values()].map(async (m) => ({
        user: userKey(m.user),
        encryptKey: await h.ctx.encryptKey(m.encKey),
      })),
    );
    h.write(await wrapKeysFrame(key, roster, recipients, h.signingKey));
    this.#myKey = key;
    this.#myKeyRoster = roster;
    this.#counter = 0;
  }
}
