/**
 * Message envelopes: per-message AES-256-GCM keys derived with HKDF-SHA-256
 * from the sender key, the header bound as associated data, and an Ed25519
 * signature over header and ciphertext that is checked before decrypting.
 *
 * HKDF and AES-GCM run on synchronous `node:crypto`: in Deno 2.9 each
 * WebCrypto call costs 0.06–0.15 ms of CPU (handed to a thread), which put
 * the client over its 0.3 ms per message budget. The bytes are exactly what
 * WebCrypto's HKDF deriveKey and AES-GCM encrypt (ciphertext then 16-byte
 * tag) give; envelope_test.ts checks both directions.
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  hkdfSync,
} from "node:crypto";
import { canonicalEncode, LABELS } from "../canonical.ts";
import { fromUtf8, utf8 } from "../bytes.ts";
import { CryptoError } from "../errors.ts";
import { userKey } from "../names.ts";
import { sign, verify } from "./ed25519.ts";
import type { SenderKey } from "./sender_key.ts";

/** The public, signed and authenticated header of every message. */
export interface MessageHeader {
  room: string;
  sender: string;
  epoch: number;
  counter: number;
  ts: number;
}

/** The encrypted part of a message. */
export interface SealedMessage {
  iv: Uint8Array<ArrayBuffer>;
  ct: Uint8Array<ArrayBuffer>;
  sig: Uint8Array<ArrayBuffer>;
}

/** What kind of message a body is: plain text, a /me action, or a room topic. */
export type MessageKind = "text" | "me" | "topic";

/** What a message says once decrypted. */
export interface MessageBody {
  kind: MessageKind;
  text: string;
}

const KIND_BYTES: Record<MessageKind, number> = {
  text: 0x01,
  me: 0x02,
  topic: 0x03,
};
const KIND_BY_BYTE = new Map<number, MessageKind>(
  Object.entries(KIND_BYTES).map(([kind, byte]) => [byte, kind as MessageKind]),
);

/** Encrypted bytes a body of `textBytes` UTF-8 bytes takes: kind byte, text, GCM tag. */
export function ciphertextBytes(textBytes: number): number {
  return 1 + textBytes + 16;
}

/**
 * Serialise a message body for encryption: one kind byte (0x01 text,
 * 0x02 /me, 0x03 topic) followed by the UTF-8 text. No escaping, so the size is exact.
 */
export function encodeBody(body: MessageBody): Uint8Array<ArrayBuffer> {
  const text = utf8(body.text);
  const out = new Uint8Array(1 + text.length);
  out[0] = KIND_BYTES[body.kind];
  out.set(text, 1);
  return out;
}

/** Parse a decrypted message body; throws CryptoError if it is not one. */
export function decodeBody(bytes: Uint8Array): MessageBody {
  const kind = bytes[0] === undefined ? undefined : KIND_BY_BYTE.get(bytes[0]);
  if (kind) {
    try {
      return { kind, text: fromUtf8(bytes.subarray(1)) };
    } catch {
      // fall through
    }
  }
  throw new CryptoError("decrypted message is not a valid message body");
}

function headerFields(h: MessageHeader): (string | number)[] {
  return [h.room, userKey(h.sender), h.epoch, h.counter, h.ts];
}

const NO_SALT = new Uint8Array(0);
const TAG_BYTES = 16;

/**
 * The per-message AES-256 key: HKDF-SHA-256 of the sender key, empty salt,
 * info = (room, sender, epoch, counter). Synchronous node:crypto; the sender
 * key's KeyObject is made once and cached on it.
 */
function messageKey(
  senderKey: SenderKey,
  header: MessageHeader,
): Uint8Array<ArrayBuffer> {
  senderKey.hkdf ??= createSecretKey(senderKey.key);
  const info = canonicalEncode(LABELS.messageKey, [
    header.room,
    userKey(header.sender),
    header.epoch,
    header.counter,
  ]);
  return new Uint8Array(hkdfSync("sha256", senderKey.hkdf, NO_SALT, info, 32));
}

function headerBytes(header: MessageHeader): Uint8Array<ArrayBuffer> {
  return canonicalEncode(LABELS.messageHeader, headerFields(header));
}

/** AES-256-GCM, 128-bit tag appended: the layout WebCrypto's encrypt gives. */
function encrypt(
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const cipher = createCipheriv("aes-256-gcm", key, iv, {
    authTagLength: TAG_BYTES,
  });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  const ct = new Uint8Array(body.length + tail.length + TAG_BYTES);
  ct.set(body);
  ct.set(tail, body.length);
  ct.set(cipher.getAuthTag(), body.length + tail.length);
  return ct;
}

/** The inverse of encrypt; throws if the tag does not authenticate. */
function decrypt(
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
): Uint8Array<ArrayBuffer> {
  if (ct.length < TAG_BYTES) {
    throw new RangeError(
      `ciphertext is shorter than its ${TAG_BYTES}-byte tag`,
    );
  }
  const split = ct.length - TAG_BYTES;
  const decipher = createDecipheriv("aes-256-gcm", key, iv, {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(aad);
  decipher.setAuthTag(ct.subarray(split));
  const body = decipher.update(ct.subarray(0, split));
  const tail = decipher.final(); // throws unless the tag authenticates
  const plaintext = new Uint8Array(body.length + tail.length);
  plaintext.set(body);
  plaintext.set(tail, body.length);
  return plaintext;
}

function signatureBytes(
  header: MessageHeader,
  iv: Uint8Array,
  ct: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return canonicalEncode(LABELS.messageSignature, [
    ...headerFields(header),
    iv,
    ct,
  ]);
}

function checkHeaderMatchesKey(senderKey: SenderKey, header: MessageHeader) {
  if (
    senderKey.room !== header.room ||
    senderKey.sender !== userKey(header.sender) ||
    senderKey.epoch !== header.epoch
  ) {
    throw new CryptoError("message header does not match the sender key");
  }
}

/** Encrypt and sign one message under a sender key. */
export async function sealMessage(
  senderKey: SenderKey,
  header: MessageHeader,
  plaintext: Uint8Array<ArrayBuffer>,
  signingKey: CryptoKey,
): Promise<SealedMessage> {
  checkHeaderMatchesKey(senderKey, header);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = messageKey(senderKey, header);
  const ct = encrypt(key, iv, headerBytes(header), plaintext);
  key.fill(0);
  const sig = await sign(signingKey, signatureBytes(header, iv, ct));
  return { iv, ct, sig };
}

/**
 * Verify the signature, then decrypt. Throws CryptoError on a bad signature,
 * a header that does not match the key, or any tampering.
 */
export async function openMessage(
  senderKey: SenderKey,
  header: MessageHeader,
  sealed: SealedMessage,
  senderVerifyKey: CryptoKey,
): Promise<Uint8Array<ArrayBuffer>> {
  if (sealed.iv.length !== 12) throw new CryptoError("bad IV length");
  if (
    !await verify(
      senderVerifyKey,
      sealed.sig,
      signatureBytes(header, sealed.iv, sealed.ct),
    )
  ) {
    throw new CryptoError(`message from ${header.sender} has a bad signature`);
  }
  checkHeaderMatchesKey(senderKey, header);
  const key = messageKey(senderKey, header);
  try {
    return decrypt(key, sealed.iv, headerBytes(header), sealed.ct);
  } catch (cause) {
    throw new CryptoError(
      `message from ${header.sender} failed to decrypt`,
      { cause },
    );
  } finally {
    key.fill(0);
  }
}
