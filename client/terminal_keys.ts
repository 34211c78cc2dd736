/**
 * What raw terminal input means: which escape sequences are which editing
 * keys, and which code points may be typed into a line at all.
 * @module
 */

/** True for a code point that may be typed into the line (no controls, no lone surrogates). */
export function isInsertable(cp: number): boolean {
  if (cp < 0x20 || cp === 0x7f) return false; // C0 controls and DEL
  if (cp >= 0x80 && cp < 0xa0) return false; // C1 controls
  return cp < 0xd800 || cp > 0xdfff; // no lone surrogates
}

/** An editing key that arrives as an escape sequence. */
export type Key =
  | "left"
  | "right"
  | "home"
  | "end"
  | "up"
  | "down"
  | "delete";

/** `ESC [ …` sequences (xterm, VT220) and the keys they mean. */
export const CSI_KEYS: Readonly<Record<string, Key>> = {
  "A": "up",
  "B": "down",
  "C": "right",
  "D": "left",
  "H": "home",
  "F": "end",
  "1~": "home",
  "7~": "home",
  "4~": "end",
  "8~": "end",
  "3~": "delete",
};

/** `ESC O …` sequences (application cursor mode) and the keys they mean. */
export const SS3_KEYS: Readonly<Record<string, Key>> = Object.fromEntries(
  // the one-letter CSI keys: arrows, Home, End
  Object.entries(CSI_KEYS).filter(([sequence]) => sequence.length === 1),
);
