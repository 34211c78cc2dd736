/** Tests of `chat serve --retain` and `--quota` parsing. */
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { CliError } from "../shared/errors.ts";
import { storageFromFlags } from "./storage_flags.ts";
import { DEFAULT_STORAGE_QUOTAS } from "./store/storage_quota.ts";

Deno.test("no storage flags keep everything under the default quotas", () => {
  assertEquals(storageFromFlags({}), { storageQuotas: DEFAULT_STORAGE_QUOTAS });
});

Deno.test("--retain and --quota set the period and the caps they name", () => {
  const settings = storageFromFlags({
    retain: "90d",
    quota: ["user-messages=100000/64MiB", "room-wraps=10/2048"],
  });
  assertEquals(settings.retainMs, 90 * 86_400_000);
  assertEquals(settings.storageQuotas["user-messages"], {
    rows: 100_000,
    bytes: 64 * 1024 * 1024,
  });
  assertEquals(settings.storageQuotas["room-wraps"], { rows: 10, bytes: 2048 });
  assertEquals(
    settings.storageQuotas["user-wraps"],
    DEFAULT_STORAGE_QUOTAS["user-wraps"],
  );
});

Deno.test("bad storage flags are usage errors that say what to write", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ retain: "90" }, /--retain: .*use a number and a unit/],
    [{ retain: "500ms" }, /at least 1s/],
    [{ quota: ["users=1/1MiB"] }, /KIND=ROWS\/SIZE.*user-messages/],
    [{ quota: ["user-messages=0/1MiB"] }, /at least 1/],
    [{ quota: ["user-messages=10/1TB"] }, /KIND=ROWS\/SIZE/],
  ];
  for (const [values, message] of cases) {
    try {
      storageFromFlags(values);
      throw new Error(`accepted ${JSON.stringify(values)}`);
    } catch (error) {
      assert(error instanceof CliError, `${error}`);
      assert(message.test(error.message), error.message);
    }
  }
});
