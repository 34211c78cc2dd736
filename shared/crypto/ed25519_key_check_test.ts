/**
 * The small-order check, verified with curve arithmetic done here: every
 * y the check refuses belongs to points P on the curve with 8P = identity,
 * the list is complete (all 8 such points), and real keys pass.
 */
import { assert, assertEquals, assertIncludes } from "../_test_assert.ts";
import { CryptoError } from "../errors.ts";
import { generateIdentity, importVerifyKey } from "./identity.ts";
import {
  encodedY,
  FIELD_PRIME as P,
  identityKeyProblem,
  SMALL_ORDER_Y,
} from "./ed25519_key_check.ts";

const mod = (a: bigint) => ((a % P) + P) % P;
function pow(base: bigint, exp: bigint): bigint {
  let result = 1n, b = mod(base), e = exp;
  while (e > 0n) {
    if (e & 1n) result = mod(result * b);
    b = mod(b * b);
    e >>= 1n;
  }
  return result;
}
const inv = (a: bigint) => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

/** Both x for y on -x² + y² = 1 + d x² y², or [] when y is on no point. */
function xsFor(y: bigint): bigint[] {
  const u = mod(y * y - 1n), v = mod(D * y * y + 1n);
  const x2 = mod(u * inv(v));
  let x = pow(x2, (P + 3n) / 8n);
  if (mod(x * x) !== x2) x = mod(x * SQRT_M1);
  if (mod(x * x) !== x2) return [];
  return x === 0n ? [0n] : [x, P - x];
}

type Point = { x: bigint; y: bigint };
function add(a: Point, b: Point): Point {
  const t = mod(D * a.x * b.x * a.y * b.y);
  return {
    x: mod((a.x * b.y + a.y * b.x) * inv(1n + t)),
    y: mod((a.y * b.y + a.x * b.x) * inv(1n - t)),
  };
}
function order(p: Point): number {
  let q = p;
  for (let n = 1; n <= 8; n++) {
    if (q.x === 0n && q.y === 1n) return n;
    q = add(q, p);
  }
  return Infinity;
}

function encode(y: bigint, negative = false): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((y >> BigInt(8 * i)) & 0xffn);
  if (negative) out[31]! |= 0x80;
  return out;
}

Deno.test("every y the check refuses is on points of order dividing 8, and together they are all 8 such points", () => {
  const points: Point[] = [];
  for (const y of SMALL_ORDER_Y) {
    const xs = xsFor(y);
    assert(xs.length > 0, `y=${y} is on the curve`);
    for (const x of xs) {
      const n = order({ x, y });
      assert(n <= 8 && 8 % n === 0, `point of order ${n}`);
      points.push({ x, y });
    }
  }
  assertEquals(points.length, 8);
  assertEquals(
    points.map((p) => order(p)).sort(),
    [1, 2, 4, 4, 8, 8, 8, 8],
  );
});

Deno.test("small-order keys are refused in every encoding, with either sign bit", () => {
  for (const y of SMALL_ORDER_Y) {
    for (const negative of [false, true]) {
      const problem = identityKeyProblem(encode(y, negative));
      assert(problem !== null, `y=${y} accepted`);
      assertIncludes(problem, "small-order");
    }
  }
});

Deno.test("an encoding with y at or above the field prime is refused as not canonical", () => {
  for (const y of [P, P + 1n, 2n ** 255n - 1n]) {
    assertIncludes(identityKeyProblem(encode(y))!, "not canonically encoded");
  }
});

Deno.test("real identity keys pass the check", async () => {
  for (let i = 0; i < 20; i++) {
    const raw = crypto.getRandomValues(new Uint8Array(32));
    // a random y is almost never on a small-order point
    assertEquals(
      identityKeyProblem(raw) === null,
      encodedY(raw) < P && !SMALL_ORDER_Y.has(encodedY(raw)),
    );
  }
  const identity = await generateIdentity("alice");
  assertEquals(identityKeyProblem(identity.idKey), null);
});

Deno.test("importVerifyKey refuses the identity point, whose forged signature Deno would accept", async () => {
  const identityPoint = encode(1n);
  let error: unknown = null;
  try {
    await importVerifyKey(identityPoint);
  } catch (e) {
    error = e;
  }
  assert(error instanceof CryptoError, String(error));
  assertIncludes(error.message, "small-order");
  // the reason: WebCrypto itself verifies R = identity, S = 0 for any message
  const raw = await crypto.subtle.importKey(
    "raw",
    identityPoint,
    "Ed25519",
    false,
    ["verify"],
  );
  const forged = new Uint8Array(64);
  forged[0] = 1;
  assert(
    await crypto.subtle.verify(
      "Ed25519",
      raw,
      forged,
      new TextEncoder().encode("anything"),
    ),
    "if WebCrypto starts refusing this, the check is belt and braces",
  );
});
