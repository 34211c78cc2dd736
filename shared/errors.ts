/**
 * Catchable error classes for conditions callers are expected to handle.
 * Programmer errors use the built-in TypeError / RangeError instead.
 * @module
 */

/** What an `error` frame says it is about, besides its code and message. */
export interface ProtocolErrorSubject {
  /** The id of the message (request) it answers. */
  id?: string;
  /** The room it is about. */
  room?: string;
  /** The epoch the server expects next (for `bad_epoch`). */
  epoch?: number;
}

/**
 * A request was refused, or the peer broke the wire protocol (bad frame,
 * bad field, unknown type). Carries what an `error` frame carries: a
 * machine-readable code, a message saying what happened, and what it is
 * about (`subject`), so it can be sent and received as it is.
 */
export class ProtocolError extends Error {
  /** Machine-readable code sent in `error` frames, e.g. `bad_frame`. */
  readonly code: string;
  /** The message id, room or epoch the error is about. */
  readonly subject: ProtocolErrorSubject;
  /** Create a protocol error with a wire code, a human message and what it is about. */
  constructor(
    code: string,
    message: string,
    subject: ProtocolErrorSubject = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "ProtocolError";
    this.code = code;
    this.subject = subject;
  }
}

/**
 * A failure to tell the person at the command line: rendered in one place
 * as `chat: error: MESSAGE` and, with a hint, `chat: hint: HINT`. `usage`
 * marks a command-line mistake (exit 2); otherwise the exit code is 1.
 */
export class CliError extends Error {
  /** What to do about it, if there is something to say. */
  readonly hint: string | undefined;
  /** True for a mistake in the command line itself (exit code 2). */
  readonly usage: boolean;
  /** Create an error for the person at the command line. */
  constructor(
    message: string,
    options: { hint?: string; usage?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "CliError";
    this.hint = options.hint;
    this.usage = options.usage ?? false;
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
