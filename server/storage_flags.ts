/**
 * The storage flags of `chat serve`: `--retain 90d` (delete messages
 * stored longer ago; unset keeps everything) and `--quota KIND=ROWS/SIZE`
 * (repeatable; KIND is user-messages, user-wraps, room-messages or
 * room-wraps, SIZE a number with B, KiB, MiB or GiB).
 * @module
 */
import { parseDuration } from "../shared/duration.ts";
import { CliError } from "../shared/errors.ts";
import {
  DEFAULT_STORAGE_QUOTAS,
  type QuotaKind,
  type StorageQuotas,
} from "./store/storage_quota.ts";

/** The flags of this file, for node:util parseArgs. */
export const STORAGE_OPTIONS = {
  retain: { type: "string" },
  quota: { type: "string", multiple: true },
} as const;

/** What the storage flags set in the server's configuration. */
export interface StorageSettings {
  storageQuotas: StorageQuotas;
  retainMs?: number;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

function usage(message: string): CliError {
  return new CliError(message, { usage: true });
}

/** `ROWS/SIZE` of one `--quota` flag. */
function parseQuota(text: string): [QuotaKind, number, number] {
  const match = /^([a-z-]+)=(\d+)\/(\d+)(B|KiB|MiB|GiB)?$/.exec(text.trim());
  const kind = match?.[1] as QuotaKind | undefined;
  if (!match || !kind || !(kind in DEFAULT_STORAGE_QUOTAS)) {
    throw usage(
      `--quota "${text}": use KIND=ROWS/SIZE, KIND one of ${
        Object.keys(DEFAULT_STORAGE_QUOTAS).join(", ")
      } (e.g. user-messages=100000/64MiB)`,
    );
  }
  const rows = Number(match[2]);
  const bytes = Number(match[3]) * SIZE_UNITS[match[4] ?? ""]!;
  if (rows < 1 || bytes < 1 || !Number.isSafeInteger(bytes)) {
    throw usage(`--quota "${text}": rows and size must be at least 1`);
  }
  return [kind, rows, bytes];
}

/** The storage settings of parsed flags; a bad one throws a usage CliError. */
export function storageFromFlags(
  values: Record<string, unknown>,
): StorageSettings {
  const quotas = { ...DEFAULT_STORAGE_QUOTAS };
  for (const text of (values.quota as string[] | undefined) ?? []) {
    const [kind, rows, bytes] = parseQuota(text);
    quotas[kind] = { rows, bytes };
  }
  const raw = values.retain as string | undefined;
  if (raw === undefined) return { storageQuotas: quotas };
  let retainMs: number;
  try {
    retainMs = parseDuration(raw);
  } catch (error) {
    throw usage(`--retain: ${(error as Error).message}`);
  }
  if (retainMs < 1000) throw usage("--retain must be at least 1s");
  return { storageQuotas: quotas, retainMs };
}
