/**
 * Tiny assertion helpers for the unit tests in `client/` (JSR and `@std`
 * are not reachable here). Test-only: nothing but `*_test.ts` imports this.
 * @module
 */

/** Throw unless `condition` is truthy. */
export function assert(
  condition: unknown,
  message = "assertion failed",
): asserts condition {
  if (!condition) throw new Error(message);
}

function show(value: unknown): string {
  try {
    return JSON.stringify(
      value,
      (_k, v) => v === undefined ? "(undefined)" : v,
    ) ??
      String(value);
  } catch {
    return String(value);
  }
}

/** Structural equality: primitives by `===`, arrays by elements, plain objects by the same own keys. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (
    typeof a !== "object" || typeof b !== "object" || a === null || b === null
  ) {
    return false;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => deepEqual(ra[k], rb[k]));
}

/** Throw unless `actual` and `expected` are structurally equal. */
export function assertEquals(
  actual: unknown,
  expected: unknown,
  message = "",
): void {
  if (!deepEqual(actual, expected)) {
    throw new Error(
      `${message ? message + "\n" : ""}  actual:   ${show(actual)}\n` +
        `  expected: ${show(expected)}`,
    );
  }
}

/** Throw unless `text` matches `pattern`. */
export function assertMatch(text: string, pattern: RegExp, message = ""): void {
  if (!pattern.test(text)) {
    throw new Error(
      `${message ? message + "\n" : ""}  ${
        show(text)
      } does not match ${pattern}`,
    );
  }
}

/** Throw unless `text` contains `part`. */
export function assertIncludes(text: string, part: string, message = ""): void {
  if (!text.includes(part)) {
    throw new Error(
      `${message ? message + "\n" : ""}  ${show(text)} does not include ${
        show(part)
      }`,
    );
  }
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

/** Await `fn`, expect it to reject with an `ErrorClass`, and return the error. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  ErrorClass: ErrorClass<E>,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof ErrorClass) return error;
    throw new Error(`expected ${ErrorClass.name}, got ${error}`, {
      cause: error,
    });
  }
  throw new Error("expected the promise to reject, but it resolved");
}
