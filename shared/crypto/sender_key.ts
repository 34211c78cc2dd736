/**
 * Sender keys (as in Signal groups): each member owns a random 32-byte key
 * per room and epoch, wraps it with RSA-OAEP for every current member, and
 * signs each wrap. Receivers verify the signature before any RSA decryption.
 * @module
 */
import type { KeyObject } from "node:crypto";
import { canonicalEncode, LABELS } from "../canonical.ts";
import { fromBase64Url, toBase64Url } from "../bytes.ts";
import { CryptoError } from "../errors.ts";
import { userKey } from "../names.ts";
import type { KeyFrame, KeyWrap } from "../protocol.ts";
import { sign, verify } from "./ed25519.ts";

/** One sender's key for one room and epoch. */
export interface SenderKey {
  room: string;
  /** The sender's user key (lowercase name). */
  sender: string;
  epoch: number;
  /** 32 secret bytes. */
  key: Uint8Array<ArrayBuffer>;
  /** `key` as a node:crypto secret KeyObject for HKDF, made once on first use. */
  hkdf?: KeyObject;
}

/** A fresh random sender key. */
export function newSenderKey(
  room: string,
  sender: string,
  epoch: number,
): SenderKey {
  return {
    room,
    sender: userKey(sender),
    epoch,
    key: crypto.getRandomValues(new Uint8Array(32)),
  };
}

/** Who a wrap is for: their name and RSA-OAEP public key. */
export interface WrapRecipient {
  user: string;
  encryptKey: CryptoKey;
}

/** The RSA-OAEP label: binds room, sender, epoch and recipient. */
export function wrapLabel(
  room: string,
  sender: string,
  epoch: number,
  recipient: string,
): Uint8Array<ArrayBuffer> {
  return canonicalEncode(LABELS.keyWrap, [
    room,
    userKey(sender),
    epoch,
    userKey(recipient),
  ]);
}

function distributionBytes(
  room: string,
  sender: string,
  epoch: number,
  roster: number,
  recipient: string,
  wrap: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return canonicalEncode(LABELS.keyDistribution, [
    room,
    userKey(sender),
    epoch,
    roster,
    userKey(recipient),
    wrap,
  ]);
}

/** Wrap a sender key for one recipient and sign the wrap. */
export async function wrapSenderKey(
  senderKey: SenderKey,
  roster: number,
  recipient: WrapRecipient,
  signingKey: CryptoKey,
): Promise<KeyWrap> {
  const label = wrapLabel(
    senderKey.room,
    senderKey.sender,
    senderKey.epoch,
    recipient.user,
  );
  const wrap = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "RSA-OAEP", label },
      recipient.encryptKey,
      senderKey.key,
    ),
  );
  const sig = await sign(
    signingKey,
    distributionBytes(
      senderKey.room,
      senderKey.sender,
      senderKey.epoch,
      roster,
      recipient.user,
      wrap,
    ),
  );
  return { to: recipient.user, wrap: toBase64Url(wrap), sig: toBase64Url(sig) };
}

/** A wrapped key as received: who sent it, for which room/epoch/roster. */
export type ReceivedWrap = Omit<KeyFrame, "t">;

/**
 * Verify the sender's signature over the wrap, then (only then) unwrap it
 * with our RSA key. Throws CryptoError on a bad signature or failed unwrap.
 */
export async function unwrapSenderKey(
  received: ReceivedWrap,
  me: { user: string; decryptKey: CryptoKey },
  senderVerifyKey: CryptoKey,
): Promise<SenderKey> {
  let wrap: Uint8Array<ArrayBuffer>;
  let sig: Uint8Array<ArrayBuffer>;
  try {
    wrap = fromBase64Url(received.wrap);
    sig = fromBase64Url(received.sig);
  } catch (cause) {
    throw new CryptoError("sender key is not valid base64url", { cause });
  }
  const signed = distributionBytes(
    received.room,
    received.from,
    received.epoch,
    received.roster,
    me.user,
    wrap,
  );
  if (!await verify(senderVerifyKey, sig, signed)) {
    throw new CryptoError(
      `sender key from ${received.from} has a bad signature`,
    );
  }
  let key: Uint8Array<ArrayBuffer>;
  try {
    key = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "RSA-OAEP",
          label: wrapLabel(
            received.room,
            received.from,
            received.epoch,
            me.user,
          ),
        },
        me.decryptKey,
        wrap,
      ),
    );
  } catch (cause) {
    throw new CryptoError(
      `sender key from ${received.from} could not be unwrapped`,
      { cause },
    );
  }
  if (key.length !== 32) {
    throw new CryptoError(`sender key from ${received.from} has a bad length`);
  }
  return {
    room: received.room,
    sender: userKey(received.from),
    epoch: received.epoch,
    key,
  };
}
