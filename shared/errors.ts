/**
 * Catchable error classes for conditions callers are expected to handle.
 * Programmer errors use the built-in TypeError / RangeError instead.
 * @module
 */

/** The peer broke the wire protocol (bad frame, bad field, unknown type). */
export class ProtocolError extends Error {
  /** Machine-readable code sent in `error` frames, e.g. `bad_frame`. */
  readonly code: string;
  /** Create a protocol error with a wire code and a human message. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
    this.code = code;
  }
}

/** Authentication or authorisation failed (bad signature, name owned by another key). */
export class AuthError extends Error {
  /** Machine-readable code, e.g. `name_taken`. */
  readonly code: string;
  /** Create an auth error with a wire code and a human message. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthError";
    this.code = code;
  }
}

/** A cryptographic check failed: bad signature, tampering, replay, wrong key. */
export class CryptoError extends Error {
  /** Create a crypto error; `cause` carries the underlying WebCrypto or node:crypto error if any. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CryptoError";
  }
}
