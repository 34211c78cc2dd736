/**
 * The `keys` frame a member sends when it rotates its sender key: the key
 * wrapped (RSA-OAEP) and signed (Ed25519) for every recipient, all bound
 * to one roster version. One place for the client and the bench; who the
 * recipients are (trusted, current members) is the caller's decision.
 * @module
 */
import {
  type SenderKey,
  type WrapRecipient,
  wrapSenderKey,
} from "./crypto/sender_key.ts";
import type { KeysFrame } from "./frame_types.ts";

/**
 * Wrap `senderKey` for each recipient (in parallel) and build the `keys`
 * frame for the key's room and epoch. `roster` is the roster version the
 * wraps are signed for: read it once, before awaiting anything, so that a
 * roster change while wrapping cannot split the frame from its signatures.
 * @example
 * ```ts
 * import { wrapKeysFrame } from "./keys_frame.ts";
 * import { newSenderKey } from "./crypto/sender_key.ts";
 * const pair = await crypto.subtle.generateKey("Ed25519", false, [
 *   "sign",
 *   "verify",
 * ]) as CryptoKeyPair;
 * const frame = await wrapKeysFrame(
 *   newSenderKey("general", "alice", 1),
 *   4,
 *   [],
 *   pair.privateKey,
 * );
 * console.assert(frame.t === "keys" && frame.roster === 4);
 * ```
 */
export async function wrapKeysFrame(
  senderKey: SenderKey,
  roster: number,
  recipients: Iterable<WrapRecipient>,
  signingKey: CryptoKey,
): Promise<KeysFrame> {
  const wraps = await Promise.all(
    [...recipients].map((recipient) =>
      wrapSenderKey(senderKey, roster, recipient, signingKey)
    ),
  );
  return {
    t: "keys",
    room: senderKey.room,
    epoch: senderKey.epoch,
    roster,
    wraps,
  };
}
