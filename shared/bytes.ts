/**
 * Byte helpers: UTF-8, base64url, concatenation and constant-time comparison.
 * Pure functions; no I/O.
 * @module
 */
import { timingSafeEqual } from "node:crypto";

const encoder = new TextEncoder();
const fatalDecoder = new TextDecoder("utf-8", { fatal: true });

/** Encode a string as UTF-8 bytes. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** Decode UTF-8 bytes, throwing TypeError on invalid sequences. */
export function fromUtf8(bytes: Uint8Array): string {
  return fatalDecoder.decode(bytes);
}

/**
 * Encode bytes as unpadded base64url.
 * @example
 * ```ts
 * import { toBase64Url } from "./bytes.ts";
 * console.assert(toBase64Url(new Uint8Array([255, 254])) === "__4");
 * ```
 */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Decode unpadded base64url; throws TypeError on any other alphabet or bad length. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!BASE64URL.test(text) || text.length % 4 === 1) {
    throw new TypeError("not valid base64url");
  }
  const padded = text.replaceAll("-", "+").replaceAll("_", "/") +
    "===".slice((text.length + 3) % 4);
  const binary = atob(padded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Concatenate byte arrays into one new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return joinBytes(parts);
}

/** Join a list of byte arrays (any number of them: no argument spreading). */
export function joinBytes(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Compare two byte arrays in constant time (for equal lengths). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
