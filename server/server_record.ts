/**
 * The running server writes where it listens into its data directory, so
 * `chat invite` (run next to it) can put the right address in a code.
 * @module
 */
import { join } from "node:path";

/** What a running server records about itself. */
export interface ServerRecord {
  host: string;
  port: number;
  /** Names in the certificate (DNS names and IPs). */
  names: string[];
  /** The local CA file, absolute, or null with --cert/--key. */
  caPath: string | null;
  pid: number;
}

const FILE = "server.json";

/** Write the record (replacing the previous one). */
export async function writeServerRecord(
  dataDir: string,
  record: ServerRecord,
): Promise<void> {
  const path = join(dataDir, FILE);
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temp, JSON.stringify(record, null, 2) + "\n", {
    mode: 0o600,
  });
  await Deno.rename(temp, path);
}

/** Read the record, or null if no server ever ran with this data directory. */
export async function readServerRecord(
  dataDir: string,
): Promise<ServerRecord | null> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dataDir, FILE)));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
