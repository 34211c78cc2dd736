/**
 * `deno task shape`: the function-length and file-length check of
 * CONTRIBUTING (README, "Development"). Every non-test `.ts` file is parsed
 * with the TypeScript compiler API, and every function, method, getter,
 * setter, constructor, arrow function and function expression longer than
 * 80 lines (from its first line to its closing brace) is reported, as is
 * every file longer than 400 lines. A function inside another is measured
 * on its own too. Exit code 1 when anything is reported, 0 when nothing is.
 *
 *     deno task shape              # the whole repository
 *     deno task shape client/      # only these files or folders
 *
 * Test code is not checked: `*_test.ts`, anything under `tests/`, and
 * helpers whose name starts with `_test`.
 * @module
 */
import { join, relative, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import ts from "typescript";

/** How long a function and a file may be, in lines. */
export interface ShapeLimits {
  functionLines: number;
  fileLines: number;
}

/** The limits of issue 12: 80 lines per function, 400 per file. */
export const SHAPE_LIMITS: Readonly<ShapeLimits> = Object.freeze({
  functionLines: 80,
  fileLines: 400,
});

/** One thing over a limit: a whole file, or one function in it. */
export interface ShapeFinding {
  path: string;
  /** 1-based line where the function (or the file) starts. */
  line: number;
  /** "file", or what the function is: "function parseInput", "method ChatClient.#onError" … */
  what: string;
  lines: number;
  limit: number;
}

/** Folders never walked: generated, vendored, or test-only. */
const SKIPPED_FOLDERS = new Set([
  ".git",
  ".cache",
  "node_modules",
  "dist",
  "certs",
  "tests",
]);

/**
 * Whether a file (path relative to the repository, `/`-separated) is
 * checked: a `.ts` file that is not a declaration file, not a test
 * (`*_test.ts`), not under `tests/` and not a test helper (`_test*`).
 */
export function isCheckedPath(path: string): boolean {
  const parts = path.split("/");
  const name = parts.at(-1) ?? "";
  return name.endsWith(".ts") && !name.endsWith(".d.ts") &&
    !name.endsWith("_test.ts") && !name.startsWith("_test") &&
    !parts.slice(0, -1).some((folder) => SKIPPED_FOLDERS.has(folder));
}

/** The name of the class a member belongs to, or "" outside a class. */
function className(node: ts.Node): string {
  const parent = node.parent;
  return parent && (ts.isClassLike(parent)) && parent.name
    ? parent.name.text
    : "";
}

function memberName(node: ts.Node, name: ts.Node | undefined): string {
  const owner = className(node);
  const own = name ? name.getText() : "(anonymous)";
  return owner ? `${owner}.${own}` : own;
}

/** What a function-like node is, for people: its kind and its name. */
function describe(node: ts.FunctionLikeDeclaration): string {
  if (ts.isFunctionDeclaration(node)) {
    return `function ${node.name?.text ?? "(default export)"}`;
  }
  if (ts.isMethodDeclaration(node)) {
    return `method ${memberName(node, node.name)}`;
  }
  if (ts.isGetAccessorDeclaration(node)) {
    return `getter ${memberName(node, node.name)}`;
  }
  if (ts.isSetAccessorDeclaration(node)) {
    return `setter ${memberName(node, node.name)}`;
  }
  if (ts.isConstructorDeclaration(node)) {
    return `constructor of ${className(node) || "(anonymous class)"}`;
  }
  const kind = ts.isArrowFunction(node)
    ? "arrow function"
    : "function expression";
  const holder = node.parent;
  const named = holder &&
      (ts.isVariableDeclaration(holder) || ts.isPropertyAssignment(holder) ||
        ts.isPropertyDeclaration(holder)) &&
      holder.initializer === node
    ? memberName(holder, holder.name)
    : ts.isFunctionExpression(node) && node.name
    ? node.name.text
    : "";
  return named ? `${kind} ${named}` : kind;
}

function isMeasured(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node) ||
    ts.isConstructorDeclaration(node) || ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)) && node.body !== undefined;
}

/** Lines in a text: a final newline does not start another line. */
function lineCount(text: string): number {
  if (text.length === 0) return 0;
  const newlines = text.split("\n").length - 1;
  return text.endsWith("\n") ? newlines : newlines + 1;
}

/**
 * Measure one source file: the file itself against `fileLines`, and every
 * function in it (nested ones too, each on its own) against
 * `functionLines`. A function's lines run from the line of its first token
 * (after any doc comment) to the line of its last (the closing brace).
 * @example
 * ```ts
 * import { measureSource } from "./code_shape.ts";
 * const body = "  x++;\n".repeat(79);
 * const source = `function long(x: number) {\n${body}}\n`;
 * const [finding] = measureSource("long.ts", source);
 * console.assert(finding?.what === "function long" && finding.lines === 81);
 * ```
 */
export function measureSource(
  path: string,
  text: string,
  limits: ShapeLimits = SHAPE_LIMITS,
): ShapeFinding[] {
  const findings: ShapeFinding[] = [];
  const fileLines = lineCount(text);
  if (fileLines > limits.fileLines) {
    findings.push({
      path,
      line: 1,
      what: "file",
      lines: fileLines,
      limit: limits.fileLines,
    });
  }
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const lineOf = (pos: number) =>
    source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node): void => {
    if (isMeasured(node)) {
      const line = lineOf(node.getStart(source));
      const lines = lineOf(node.getEnd()) - line + 1;
      if (lines > limits.functionLines) {
        findings.push({
          path,
          line,
          what: describe(node),
          lines,
          limit: limits.functionLines,
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return findings;
}

/**
 * Every checked file under `root` (a folder or a single file), as paths
 * relative to `base` (the repository), in a stable order.
 */
export async function* checkedFiles(
  root: string,
  base: string,
): AsyncGenerator<string> {
  const path = relative(base, root);
  const info = await Deno.stat(root);
  if (info.isFile) {
    if (isCheckedPath(path)) yield path;
    return;
  }
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(root)) entries.push(entry);
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const entry of entries) {
    const full = join(root, entry.name);
    if (entry.isDirectory && !SKIPPED_FOLDERS.has(entry.name)) {
      yield* checkedFiles(full, base);
    } else if (entry.isFile && isCheckedPath(relative(base, full))) {
      yield relative(base, full);
    }
  }
}

/** One line per finding, as `path:line: what is N lines (limit L)`. */
export function formatFinding(finding: ShapeFinding): string {
  const where = finding.what === "file"
    ? finding.path
    : `${finding.path}:${finding.line}`;
  return `${where}: ${finding.what} is ${finding.lines} lines (limit ${finding.limit})`;
}

async function main(args: string[]): Promise<number> {
  const base = fromFileUrl(new URL("..", import.meta.url));
  const roots = args.length > 0 ? args.map((arg) => resolve(arg)) : [base];
  const findings: ShapeFinding[] = [];
  let files = 0;
  for (const root of roots) {
    for await (const path of checkedFiles(root, base)) {
      files++;
      const text = await Deno.readTextFile(join(base, path));
      findings.push(...measureSource(path, text));
    }
  }
  for (const finding of findings) console.log(formatFinding(finding));
  const verdict = findings.length === 0
    ? "every function and file is within its limit"
    : `${findings.length} over the limit`;
  console.log(
    `shape: ${files} files checked (functions ≤ ${SHAPE_LIMITS.functionLines} lines, files ≤ ${SHAPE_LIMITS.fileLines}): ${verdict}`,
  );
  return findings.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
