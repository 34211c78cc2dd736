import { canonicalEncode, LABELS } from "./canonical.ts";
import {
  assert,
  assertEquals,
  assertNotEquals,
  assertThrows,
  hex,
} from "./_test_assert.ts";

// The expected bytes below were written out by hand from the layout at the top
// of canonical.ts: u32be(len(label)) ‖ label, then per field a tag (01 bytes,
// 02 string, 03 uint), u32be(len) and the value (uints as 8 bytes big-endian).

Deno.test("canonicalEncode lays out a label, a string, an integer and bytes as documented", () => {
  const expected = hex(`
    00000001 4c
    02 00000002 6162
    03 00000008 0000000000000001
    01 00000001 ff
  `);
  assertEquals(
    canonicalEncode("L", ["ab", 1, new Uint8Array([0xff])]),
    expected,
  );
});

Deno.test("canonicalEncode with no fields is just the length-prefixed label", () => {
  assertEquals(
    canonicalEncode("chat/v1/login", []),
    hex("0000000d 636861742f76312f6c6f67696e"),
  );
  assertEquals(canonicalEncode("", []), hex("00000000"));
});

Deno.test("canonicalEncode writes empty strings and empty bytes as zero-length fields", () => {
  assertEquals(
    canonicalEncode("", ["", new Uint8Array(0)]),
    hex("00000000 02 00000000 01 00000000"),
  );
});

Deno.test("canonicalEncode measures non-ASCII strings and labels in UTF-8 bytes", () => {
  // "é" = c3 a9, "€" = e2 82 ac, U+1F600 = f0 9f 98 80.
  assertEquals(
    canonicalEncode("é", ["é€", "😀"]),
    hex(`
      00000002 c3a9
      02 00000005 c3a9e282ac
      02 00000004 f09f9880
    `),
  );
});

Deno.test("canonicalEncode writes integers as 8 bytes big-endian up to MAX_SAFE_INTEGER", () => {
  assertEquals(
    canonicalEncode("n", [0, 256, 2 ** 32, Number.MAX_SAFE_INTEGER]),
    hex(`
      00000001 6e
      03 00000008 0000000000000000
      03 00000008 0000000000000100
      03 00000008 0000000100000000
      03 00000008 001fffffffffffff
    `),
  );
});

Deno.test("canonicalEncode throws RangeError for a negative, fractional or unsafe number", () => {
  const bad = [
    -1,
    0.5,
    1.5,
    Number.MAX_SAFE_INTEGER + 1,
    2 ** 64,
    NaN,
    Infinity,
    -Infinity,
  ];
  for (const n of bad) {
    assertThrows(() => canonicalEncode("L", [n]), RangeError, "out of range");
  }
});

Deno.test("canonicalEncode has no ambiguity where one field ends and the next begins", () => {
  assertNotEquals(
    canonicalEncode("L", ["ab", "c"]),
    canonicalEncode("L", ["a", "bc"]),
  );
  assertNotEquals(
    canonicalEncode("L", ["abc"]),
    canonicalEncode("L", ["ab", "c"]),
  );
  assertNotEquals(canonicalEncode("L", [""]), canonicalEncode("L", []));
  // The label is length-prefixed too, so it cannot bleed into the first field.
  assertNotEquals(canonicalEncode("Lab", []), canonicalEncode("L", ["ab"]));
});

Deno.test("canonicalEncode tags fields, so a string and the same bytes encode differently", () => {
  const asString = canonicalEncode("L", ["ab"]);
  const asBytes = canonicalEncode("L", [new Uint8Array([0x61, 0x62])]);
  assertNotEquals(asString, asBytes);
  assertEquals(asString.length, asBytes.length, "only the tag differs");
  // An integer and its 8 bytes differ as well.
  assertNotEquals(
    canonicalEncode("L", [1]),
    canonicalEncode("L", [hex("0000000000000001")]),
  );
});

Deno.test("canonicalEncode binds the label, so the same fields under two labels differ", () => {
  assertNotEquals(
    canonicalEncode(LABELS.messageHeader, ["general", "alice", 1, 2, 3]),
    canonicalEncode(LABELS.messageSignature, ["general", "alice", 1, 2, 3]),
  );
});

Deno.test("LABELS are distinct, versioned and frozen", () => {
  const values = Object.values(LABELS);
  assertEquals(new Set(values).size, values.length);
  for (const label of values) {
    assert(label.startsWith("chat/v1/"), label);
  }
  assert(Object.isFrozen(LABELS));
});
