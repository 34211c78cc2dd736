import fc from "fast-check";
import {
  concatBytes,
  constantTimeEqual,
  fromBase64Url,
  fromUtf8,
  toBase64Url,
  toHex,
  utf8,
} from "./bytes.ts";
import { assert, assertEquals, assertThrows, hex } from "./_test_assert.ts";

Deno.test("utf8 encodes multi-byte characters and fromUtf8 decodes them back", () => {
  const bytes = utf8("é€😀");
  assertEquals(bytes, hex("c3a9 e282ac f09f9880"));
  assertEquals(fromUtf8(bytes), "é€😀");
});

Deno.test("fromUtf8 throws TypeError on invalid UTF-8 instead of substituting", () => {
  assertThrows(() => fromUtf8(new Uint8Array([0xff])), TypeError);
  assertThrows(() => fromUtf8(new Uint8Array([0xc3])), TypeError);
  // An encoded surrogate (CESU-style) is not UTF-8.
  assertThrows(() => fromUtf8(hex("eda080")), TypeError);
});

Deno.test("toBase64Url matches the RFC 4648 vectors in the URL alphabet without padding", () => {
  const vectors: [string, string][] = [
    ["", ""],
    ["f", "Zg"],
    ["fo", "Zm8"],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg"],
    ["fooba", "Zm9vYmE"],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [text, encoded] of vectors) {
    assertEquals(toBase64Url(utf8(text)), encoded, text);
    assertEquals(fromUtf8(fromBase64Url(encoded)), text, encoded);
  }
  // 0xfb 0xff is "+/8=" in standard base64.
  assertEquals(toBase64Url(new Uint8Array([0xfb, 0xff])), "-_8");
  assertEquals(fromBase64Url("-_8"), new Uint8Array([0xfb, 0xff]));
  assertEquals(toBase64Url(new Uint8Array([255, 254])), "__4");
});

Deno.test("base64url round-trips any byte array", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const text = toBase64Url(bytes);
      assert(/^[A-Za-z0-9_-]*$/.test(text), `bad alphabet: ${text}`);
      assertEquals(fromBase64Url(text), bytes);
    }),
    { numRuns: 500 },
  );
});

Deno.test("base64url round-trips an array larger than one encoding chunk", () => {
  const bytes = new Uint8Array(100_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
  assertEquals(fromBase64Url(toBase64Url(bytes)), bytes);
});

Deno.test("fromBase64Url rejects padding, the standard alphabet and impossible lengths", () => {
  const bad = [
    "Zg==",
    "Zg=",
    "Zm8=",
    "+_8",
    "-/8",
    "a+b/",
    "Z",
    "Zm9vY",
    " Zg",
    "Zg\n",
    "Zg.",
    "Zé",
  ];
  for (const text of bad) {
    assertThrows(() => fromBase64Url(text), TypeError, "base64url");
  }
});

Deno.test("concatBytes joins parts in order into a new array", () => {
  const a = new Uint8Array([1, 2]);
  const b = new Uint8Array([]);
  const c = new Uint8Array([3]);
  const out = concatBytes(a, b, c);
  assertEquals(out, new Uint8Array([1, 2, 3]));
  out[0] = 9;
  assertEquals(a, new Uint8Array([1, 2]), "the parts are copied, not aliased");
  assertEquals(concatBytes(), new Uint8Array(0));
});

Deno.test("constantTimeEqual is true for equal bytes and false for any difference", () => {
  assert(constantTimeEqual(new Uint8Array([]), new Uint8Array([])));
  assert(constantTimeEqual(hex("00ff10"), hex("00ff10")));
  assert(!constantTimeEqual(hex("00ff10"), hex("00ff11")));
  assert(!constantTimeEqual(hex("80ff10"), hex("00ff10")));
});

Deno.test("constantTimeEqual is false (and does not throw) for different lengths", () => {
  assert(!constantTimeEqual(hex("00ff"), hex("00ff10")));
  assert(!constantTimeEqual(hex("00ff10"), hex("00ff")));
  assert(!constantTimeEqual(new Uint8Array([]), hex("00")));
});

Deno.test("toHex writes two lowercase digits per byte", () => {
  assertEquals(toHex(new Uint8Array([0, 15, 16, 171, 255])), "000f10abff");
  assertEquals(toHex(new Uint8Array([])), "");
});
