/**
 * Message envelopes: per-message AES-256-GCM keys derived with HKDF-SHA-256
 * from the sender key, the header bound as associated data, and an Ed25519
 * signature over header and ciphertext that is checked before decrypting.
 * @module
 */
import { canonicalEncode, LABELS } from "../canonical.ts";
import { fromUtf8, utf8 } from "../bytes.ts";
import { CryptoError } from "../errors.ts";
import { userKey } from "../names.ts";
import { sign, verify } from "./identity.ts";
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

/** What a message says once decrypted. */
export interface MessageBody {
  kind: "text" | "me";
  text: string;
}

const KIND_BYTES = { text: 0x01, me: 0x02 } as const;

/** Encrypted bytes a body of `textBytes` UTF-8 bytes takes: kind byte, text, GCM tag. */
export function ciphertextBytes(textBytes: number): number {
  return 1 + textBytes + 16;
}

/**
 * Serialise a message body for encryption: one kind byte (0x01 text,
 * 0x02 /me) followed by the UTF-8 text. No escaping, so the size is exact.
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
  const kind = bytes[0] === KIND_BYTES.text
    ? "text"
    : bytes[0] === KIND_BYTES.me
    ? "me"
    : null;
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

async function messageKey(
  senderKey: SenderKey,
  header: MessageHeader,
): Promise<CryptoKey> {
  senderKey.hkdf ??= await crypto.subtle.importKey(
    "raw",
    senderKey.key,
    "HKDF",
    false,
    ["deriveKey"],
  );
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: canonicalEncode(LABELS.messageKey, [
        header.room,
        userKey(header.sender),
        header.epoch,
        header.counter,
      ]),
    },
    senderKey.hkdf,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
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
  const key = await messageKey(senderKey, header);
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      {
        name: "AES-GCM",
        iv,
        tagLength: 128,
        additionalData: canonicalEncode(
          LABELS.messageHeader,
          headerFields(header),
        ),
      },
      key,
      plaintext,
    ),
  );
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
  const key = await messageKey(senderKey, header);
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: sealed.iv,
          tagLength: 128,
          additionalData: canonicalEncode(
            LABELS.messageHeader,
            headerFields(header),
          ),
        },
        key,
        sealed.ct,
      ),
    );
  } catch (cause) {
    throw new CryptoError(
      `message from ${header.sender} failed to decrypt`,
      { cause },
    );
  }
}
