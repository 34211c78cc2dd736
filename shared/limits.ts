/**
 * Default resource limits shared by server and client.
 * @module
 */

/** Limits that bound what a peer may send. All sizes in bytes. */
export interface Limits {
  /** Largest frame body (the JSON after the 4-byte length header). */
  maxFrameBytes: number;
  /** Largest message text, in UTF-8 bytes, before encryption. */
  maxTextBytes: number;
}

/** The defaults from DESIGN.md: frame 64 KiB, message text 8 KiB. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxFrameBytes: 64 * 1024,
  maxTextBytes: 8 * 1024,
});

/**
 * Protocol version spoken by this build; sent in the server's `hello` and
 * checked by the client. 2: message bodies are a kind byte plus UTF-8.
 */
export const PROTOCOL_VERSION = 2;
