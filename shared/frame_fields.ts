/**
 * Readers for one field of an untrusted frame: each returns the field with
 * its type narrowed, or throws ProtocolError(`bad_frame`) naming the frame
 * type and the field. The client-frame parser is built from these.
 * @module
 */
import type { RawFrame } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { isValidRoom, isValidUsername } from "./names.ts";

const B64 = /^[A-Za-z0-9_-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Refuse `frame`: ProtocolError(`bad_frame`) with the message `t: what`.
 * @example
 * ```ts
 * import { fail } from "./frame_fields.ts";
 * try {
 *   fail({ t: "join" }, '"room" is missing');
 * } catch (error) {
 *   console.assert((error as Error).message === 'join: "room" is missing');
 * }
 * ```
 */
export function fail(frame: RawFrame, what: string): never {
  throw new ProtocolError("bad_frame", `${frame.t}: ${what}`);
}

/** Field `name` as a string of at most `max` characters. */
export function str(frame: RawFrame, name: string, max = 256): string {
  const value = frame[name];
  if (typeof value !== "string" || value.length > max) {
    fail(frame, `"${name}" must be a string of at most ${max} characters`);
  }
  return value;
}

/** Field `name` as unpadded base64url of at most `max` characters. */
export function b64(frame: RawFrame, name: string, max: number): string {
  const value = str(frame, name, max);
  if (!B64.test(value) || value.length % 4 === 1) {
    fail(frame, `"${name}" must be base64url`);
  }
  return value;
}

/** Field `name` as a non-negative safe integer. */
export function uint(frame: RawFrame, name: string): number {
  const value = frame[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(frame, `"${name}" must be a non-negative integer`);
  }
  return value;
}

/** Field `name` as a valid username (see names.ts). */
export function username(frame: RawFrame, name: string): string {
  const value = str(frame, name, 64);
  if (!isValidUsername(value)) fail(frame, `"${name}" is not a valid username`);
  return value;
}

/** The `room` field as a valid room name (see names.ts). */
export function room(frame: RawFrame): string {
  const value = str(frame, "room", 80);
  if (!isValidRoom(value)) fail(frame, `"room" is not a valid room name`);
  return value;
}

/** Field `name` as a boolean (exactly true or false). */
export function bool(frame: RawFrame, name: string): boolean {
  const v = frame[name];
  if (typeof v !== "boolean") fail(frame, `"${name}" must be true or false`);
  return v;
}

/** Field `name` as a lowercase UUID (message ids, user ids). */
export function uuid(frame: RawFrame, name: string): string {
  const value = str(frame, name, 36);
  if (!UUID.test(value)) fail(frame, `"${name}" must be a lowercase UUID`);
  return value;
}
