/**
 * The `msg` frame and the sealed message inside it, in one place for the
 * client, the server and the bench: seal a message into the frame a client
 * sends, build the frame the server relays or replays from what it stored,
 * and verify and open a relayed frame back into its text. The frame's
 * header fields are the signed MessageHeader; iv, ct and sig are the
 * sealed message in base64url.
 * @module
 */
import { fromBase64Url, toBase64Url } from "./bytes.ts";
import {
  decodeBody,
  encodeBody,
  type MessageBody,
  type MessageHeader,
  openMessage,
  type SealedMessage,
  sealMessage,
} from "./crypto/envelope.ts";
import type { SenderKey } from "./crypto/sender_key.ts";
import type {
  MessageEnvelope,
  MessageFrame,
  SendFrame,
} from "./frame_types.ts";

/**
 * Encrypt and sign `body` under the sender key and build the `msg` frame a
 * client sends; `id` is the client's idempotency key for the message.
 * @example
 * ```ts
 * import { sealMessageFrame } from "./message_frame.ts";
 * import { newSenderKey } from "./crypto/sender_key.ts";
 * const pair = await crypto.subtle.generateKey("Ed25519", false, [
 *   "sign",
 *   "verify",
 * ]) as CryptoKeyPair;
 * const header = { room: "general", sender: "alice", epoch: 1, counter: 0, ts: 1 };
 * const frame = await sealMessageFrame(
 *   newSenderKey("general", "alice", 1),
 *   header,
 *   { kind: "text", text: "hi" },
 *   pair.privateKey,
 *   crypto.randomUUID(),
 * );
 * console.assert(frame.t === "msg" && frame.counter === 0);
 * ```
 */
export async function sealMessageFrame(
  senderKey: SenderKey,
  header: MessageHeader,
  body: MessageBody,
  signingKey: CryptoKey,
  id: string,
): Promise<SendFrame> {
  const sealed = await sealMessage(
    senderKey,
    header,
    encodeBody(body),
    signingKey,
  );
  return {
    t: "msg",
    id,
    room: header.room,
    epoch: header.epoch,
    counter: header.counter,
    ts: header.ts,
    iv: toBase64Url(sealed.iv),
    ct: toBase64Url(sealed.ct),
    sig: toBase64Url(sealed.sig),
  };
}

/** A sent message as the server keeps it: the client's fields and its room sequence number. */
export interface RelayedMessage extends MessageEnvelope {
  seq: number;
  id: string;
}

/**
 * The `msg` frame the server relays to the other members (`history`
 * false) or replays from its store (`history` true): the sender's fields
 * plus who sent it (`from`, the sender's name as registered) and its seq.
 */
export function relayedMessageFrame(
  m: RelayedMessage,
  from: string,
  history: boolean,
): MessageFrame {
  return {
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
  };
}

/** The signed header a relayed `msg` frame carries. */
export function messageHeaderOf(frame: MessageFrame): MessageHeader {
  return {
    room: frame.room,
    sender: frame.from,
    epoch: frame.epoch,
    counter: frame.counter,
    ts: frame.ts,
  };
}

/** The sealed message a `msg` frame carries, decoded from base64url. */
export function sealedMessageOf(
  frame: Pick<MessageFrame, "iv" | "ct" | "sig">,
): SealedMessage {
  return {
    iv: fromBase64Url(frame.iv),
    ct: fromBase64Url(frame.ct),
    sig: fromBase64Url(frame.sig),
  };
}

/**
 * Verify a relayed `msg` frame with its sender's identity key, then
 * decrypt it under the sender key. Throws CryptoError on a bad signature,
 * tampering or a body that is not a message, and whatever fromBase64Url
 * throws for fields that are not base64url.
 */
export async function openMessageFrame(
  senderKey: SenderKey,
  frame: MessageFrame,
  senderVerifyKey: CryptoKey,
): Promise<MessageBody> {
  const plain = await openMessage(
    senderKey,
    messageHeaderOf(frame),
    sealedMessageOf(frame),
    senderVerifyKey,
  );
  return decodeBody(plain);
}
