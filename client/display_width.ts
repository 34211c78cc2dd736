/**
 * How many terminal columns text takes: wide East Asian characters and
 * emoji take two, combining marks and zero-width characters none, colour
 * sequences none. The line editor measures its prompt and line with it.
 * @module
 */

const _ESC = "\x1b";

const _WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

const _ZERO_WIDTH_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x0300, 0x036f], // combining diacritical marks
  [0x1ab0, 0x1aff], // combining diacritical marks extended
  [0x1dc0, 0x1dff], // combining diacritical marks supplement
  [0x200b, 0x200f], // zero-width space, joiners, direction marks
  [0x20d0, 0x20ff], // combining marks for symbols
  [0xfe00, 0xfe0f], // variation selectors
  [0xfe20, 0xfe2f], // combining half marks
];

function _inRanges(
  cp: number,
  ranges: ReadonlyArray<readonly [number, number]>,
): boolean {
  return ranges.some(([lo, hi]) => cp >= lo && cp <= hi);
}

/**
 * How many terminal columns one code point occupies: 2 for East Asian wide
 * characters and wide emoji, 0 for combining marks and zero-width joiners,
 * 1 for everything else.
 */
export function codePointWidth(cp: number): 0 | 1 | 2 {
  if (_inRanges(cp, _ZERO_WIDTH_RANGES)) return 0;
  if (_inRanges(cp, _WIDE_RANGES)) return 2;
  return 1;
}

/**
 * How many terminal columns `s` occupies when printed. SGR colour sequences
 * (`ESC [ ... m`) count as zero width, so a coloured prompt measures the same
 * as its plain text.
 *
 * @example
 * ```ts
 * displayWidth("\x1b[1;32mé日\x1b[0m"); // 3
 * ```
 */
export function displayWidth(s: string): number {
  const cps = [...s];
  let width = 0;
  for (let i = 0; i < cps.length; i++) {
    const ch = cps[i] as string;
    if (ch === _ESC && cps[i + 1] === "[") {
      let j = i + 2;
      while (j < cps.length && /^[0-9;:]$/.test(cps[j] as string)) j++;
      if (cps[j] === "m") {
        i = j;
        continue;
      }
    }
    width += codePointWidth(ch.codePointAt(0) as number);
  }
  return width;
}
