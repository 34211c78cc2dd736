/**
 * Operators are named by key fingerprint, on the command line (`--op`) or
 * in a file (`--ops-file`): reading and normalising those fingerprints.
 * @module
 */
import { CliError } from "../shared/errors.ts";
import { normalizeFingerprint } from "../shared/fingerprint.ts";

/** Read operator fingerprints from flags and an optional file (one per line, # comments). */
export async function loadOperators(
  ops: string[],
  opsFile: string | undefined,
): Promise<Set<string>> {
  const lines = [...ops];
  if (opsFile) {
    const text = await Deno.readTextFile(opsFile).catch((cause) => {
      throw new CliError(
        `cannot read --ops-file ${opsFile}: ${cause.message}`,
        {
          cause,
        },
      );
    });
    for (const line of text.split("\n")) {
      const bare = line.replace(/#.*/, "").trim();
      if (bare) lines.push(bare);
    }
  }
  const out = new Set<string>();
  for (const line of lines) {
    const fp = normalizeFingerprint(line);
    if (!fp) {
      throw new CliError(`"${line}" is not a key fingerprint`, {
        hint: "use the 64 hex digits `chat id --user NAME` prints",
      });
    }
    out.add(fp);
  }
  return out;
}
