/**
 * The `chat join …` lines the server and `chat invite` print, in the form
 * that runs for how this program was started: a compiled binary prints
 * itself as it was invoked (`./chat join …`); from source in the project
 * directory, the deno task (`npx -y deno@2.9.6 task join …`); from source
 * anywhere else, `deno run` with the permission list and main.ts's path.
 * The decision is `chatCommand()`, a pure function of an `Invocation`.
 * @module
 */
import process from "node:process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { PERMISSION_FLAGS } from "../scripts/permissions.ts";

/** How this process was started: the facts `chatCommand()` decides on. */
export interface Invocation {
  /** A `deno compile` binary (Deno.build.standalone). */
  compiled: boolean;
  /** argv[0] as invoked (a binary's name or path). */
  argv0: string;
  /** Absolute path of the project directory (where main.ts and deno.json are). */
  projectDir: string;
  /** The working directory. */
  cwd: string;
  /** The Deno version running us, e.g. "2.9.6". */
  denoVersion: string;
}

/** `word` quoted for a POSIX shell when it needs it. */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The words that run `chat COMMAND` the way this process was started,
 * e.g. `chatCommand(inv, "join")` → `npx -y deno@2.9.6 task join`.
 * @example
 * ```ts
 * import { chatCommand } from "./join_line.ts";
 * const line = chatCommand({
 *   compiled: true, argv0: "./chat", projectDir: "/", cwd: "/srv",
 *   denoVersion: "2.9.6",
 * }, "join");
 * console.assert(line === "./chat join");
 * ```
 */
export function chatCommand(inv: Invocation, command: string): string {
  if (inv.compiled) return `${shellWord(inv.argv0 || "chat")} ${command}`;
  const deno = `npx -y deno@${inv.denoVersion}`;
  // a task runs in the project directory: relative paths in the line (the
  // CA, say) mean the same there only when we run there too
  if (sameDir(inv.cwd, inv.projectDir)) return `${deno} task ${command}`;
  const main = shellWord(`${inv.projectDir.replace(/[\\/]$/, "")}/main.ts`);
  return `${deno} run ${PERMISSION_FLAGS.join(" ")} ${main} ${command}`;
}

function sameDir(a: string, b: string): boolean {
  const trim = (p: string) => p.replace(/[\\/]+$/, "") || "/";
  return trim(a) === trim(b);
}

/** The facts of this process (reads the working directory). */
export function currentInvocation(): Invocation {
  return {
    compiled: Deno.build.standalone,
    argv0: process.argv0,
    projectDir: dirname(fileURLToPath(new URL("../main.ts", import.meta.url))),
    cwd: Deno.cwd(),
    denoVersion: Deno.version.deno,
  };
}
