/**
 * Minimal assertions for tests (no @std: JSR is unreachable here).
 * @module
 */

/** Throw unless `condition` holds. */
export function assert(
  condition: unknown,
  message = "assertion failed",
): asserts condition {
  if (!condition) throw new Error(message);
}

/** Deep equality through a canonical JSON rendering (key order ignored). */
export function assertEquals<T>(
  actual: T,
  expected: T,
  message?: string,
): void {
  const a = canonical(actual), e = canonical(expected);
  if (a !== e) {
    throw new Error(
      `${message ? message + ": " : ""}expected ${e}\n  but got ${a}`,
    );
  }
}

/** Assert that `text` contains `part`. */
export function assertIncludes(text: string, part: string): void {
  if (!text.includes(part)) {
    throw new Error(`expected to find ${JSON.stringify(part)} in:\n${text}`);
  }
}

function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(
          Object.entries(v).sort(([a], [b]) => a.localeCompare(b)),
        )
        : v,
  );
}
