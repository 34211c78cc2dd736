/**
 * Canonical byte encoding for everything that is signed, MACed or used as a
 * key-derivation label. Never sign `JSON.stringify` output: its key order and
 * escaping are not a stable contract.
 *
 * Layout: `u32be(len(label)) ‖ label` then, per field, a one-byte tag
 * (`0x01` bytes, `0x02` UTF-8 string, `0x03` unsigned integer), `u32be(len)`
 * and the value (integers are 8 bytes big-endian).
 * @module
 */
import { utf8 } from "./bytes.ts";

/** One field of a canonical encoding. Numbers must be safe non-negative integers. */
export type CanonicalField = string | number | Uint8Array;

const TAG_BYTES = 0x01;
const TAG_STRING = 0x02;
const TAG_UINT = 0x03;

/**
 * Encode a domain-separation label and fields as unambiguous bytes.
 * @example
 * ```ts
 * import { canonicalEncode } from "./canonical.ts";
 * const bytes = canonicalEncode("chat/v1/example", ["alice", 7]);
 * console.assert(bytes.length === 4 + 15 + (1 + 4 + 5) + (1 + 4 + 8));
 * ```
 */
export function canonicalEncode(
  label: string,
  fields: readonly CanonicalField[],
): Uint8Array<ArrayBuffer> {
  const parts: { tag: number; value: Uint8Array }[] = [];
  for (const field of fields) {
    if (typeof field === "string") {
      parts.push({ tag: TAG_STRING, value: utf8(field) });
    } else if (typeof field === "number") {
      if (!Number.isSafeInteger(field) || field < 0) {
        throw new RangeError(`canonical integer out of range: ${field}`);
      }
      const value = new Uint8Array(8);
      new DataView(value.buffer).setBigUint64(0, BigInt(field));
      parts.push({ tag: TAG_UINT, value });
    } else {
      parts.push({ tag: TAG_BYTES, value: field });
    }
  }
  const labelBytes = utf8(label);
  let length = 4 + labelBytes.length;
  for (const part of parts) length += 5 + part.value.length;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint32(0, labelBytes.length);
  out.set(labelBytes, 4);
  let offset = 4 + labelBytes.length;
  for (const part of parts) {
    out[offset] = part.tag;
    view.setUint32(offset + 1, part.value.length);
    out.set(part.value, offset + 5);
    offset += 5 + part.value.length;
  }
  return out;
}

/** Domain-separation labels: one per signed or derived thing. */
export const LABELS = Object.freeze({
  login: "chat/v1/login",
  fingerprint: "chat/v1/fingerprint",
  safetyNumber: "chat/v1/safety-number",
  keyWrap: "chat/v1/sender-key-wrap",
  keyDistribution: "chat/v1/sender-key-distribution",
  messageKey: "chat/v1/message-key",
  messageHeader: "chat/v1/message-header",
  messageSignature: "chat/v1/message-signature",
});
