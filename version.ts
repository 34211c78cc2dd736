/**
 * The program version, shown by `chat --version`.
 * @module
 */

/** This build's version (keep in step with deno.json). */
export const VERSION = "0.1.0";
