/**
 * The one set of assertion helpers for every test in the project (JSR and
 * `@std` are not reachable here). Test-only: nothing but tests imports this.
 * @module
 */

/** Throw unless `condition` is truthy. */
export function assert(
  condition: unknown,
  message = "assertion failed",
): asserts condition {
  if (!condition) throw new Error(message);
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) {
    return `Uint8Array[${Array.from(value).join(",")}]`;
  }
  try {
    return JSON.stringify(
      value,
      (_key, v) =>
        v instanceof Uint8Array
          ? `Uint8Array[${Array.from(v).join(",")}]`
          : typeof v === "bigint"
          ? `${v}n`
          : v === undefined
          ? "(undefined)"
          : v,
    ) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Structural equality: primitives by `===` (so 0 equals -0, as JSON sees
 * them) with NaN equal to NaN; typed arrays by class and contents; arrays by
 * length and elements; plain objects by the same own enumerable keys (an own
 * key holding `undefined` is not the same as a missing key).
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") {
    return Number.isNaN(a) && Number.isNaN(b);
  }
  if (
    typeof a !== "object" || typeof b !== "object" || a === null || b === null
  ) {
    return false;
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b)) return false;
    if (a.constructor !== b.constructor) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return false;
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) {
    // Plain objects from JSON.parse and from literals share Object.prototype;
    // anything else must be the same kind of thing.
    const plain = (o: object) => {
      const p = Object.getPrototypeOf(o);
      return p === Object.prototype || p === null;
    };
    if (!plain(a) || !plain(b)) return false;
  }
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (!deepEqual(ka, kb)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => deepEqual(ra[k], rb[k]));
}

/** Throw unless `actual` and `expected` are structurally equal (see deepEqual). */
export function assertEquals(
  actual: unknown,
  expected: unknown,
  message = "",
): void {
  if (!deepEqual(actual, expected)) {
    throw new Error(
      `${message ? message + "\n" : ""}  actual:   ${describe(actual)}\n` +
        `  expected: ${describe(expected)}`,
    );
  }
}

/** Throw if `actual` and `unexpected` are structurally equal. */
export function assertNotEquals(
  actual: unknown,
  unexpected: unknown,
  message = "",
): void {
  if (deepEqual(actual, unexpected)) {
    throw new Error(
      `${message ? message + "\n" : ""}  both were: ${describe(actual)}`,
    );
  }
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

function checkError<E extends Error>(
  error: unknown,
  ErrorClass: ErrorClass<E> | undefined,
  includes: string | undefined,
): E {
  if (ErrorClass && !(error instanceof ErrorClass)) {
    throw new Error(
      `expected ${ErrorClass.name}, got ${
        error instanceof Error ? `${error.name}: ${error.message}` : error
      }`,
      { cause: error },
    );
  }
  if (!(error instanceof Error)) {
    throw new Error(`expected an Error, got ${describe(error)}`);
  }
  if (includes !== undefined && !error.message.includes(includes)) {
    throw new Error(
      `expected the message to include ${JSON.stringify(includes)}, got ${
        JSON.stringify(error.message)
      }`,
      { cause: error },
    );
  }
  return error as E;
}

/** Call `fn`, expect it to throw (an `ErrorClass`, mentioning `includes`), and return the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: ErrorClass<E>,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    return checkError(error, ErrorClass, includes);
  }
  throw new Error("expected the function to throw, but it returned");
}

/** Await `fn`, expect it to reject (with an `ErrorClass`, mentioning `includes`), and return the error. */
export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  ErrorClass?: ErrorClass<E>,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return checkError(error, ErrorClass, includes);
  }
  throw new Error("expected the promise to reject, but it resolved");
}

/** Bytes from a hex string; spaces are ignored so vectors can be laid out by field. */
export function hex(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.replace(/\s+/g, "");
  if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new TypeError(`bad hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/** Throw unless `text` contains `part`. */
export function assertIncludes(text: string, part: string, message = ""): void {
  if (!text.includes(part)) {
    throw new Error(
      `${message ? message + "\n" : ""}expected to find ${
        JSON.stringify(part)
      } in:\n${text}`,
    );
  }
}

/** Throw unless `text` matches `pattern`. */
export function assertMatch(text: string, pattern: RegExp, message = ""): void {
  if (!pattern.test(text)) {
    throw new Error(
      `${message ? message + "\n" : ""}${
        JSON.stringify(text)
      } does not match ${pattern}`,
    );
  }
}
