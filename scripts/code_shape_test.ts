import {
  formatFinding,
  isCheckedPath,
  measureSource,
  type ShapeFinding,
} from "./code_shape.ts";
import { assert, assertEquals } from "../shared/_test_assert.ts";

/** A function declaration `name` spanning exactly `lines` lines. */
function fn(name: string, lines: number, inner = ""): string {
  const innerLines = inner === "" ? 0 : inner.split("\n").length;
  const body = "  n++;\n".repeat(lines - 2 - innerLines);
  return `function ${name}(n: number) {\n${inner ? inner + "\n" : ""}${body}}`;
}

const whats = (findings: ShapeFinding[]) =>
  findings.map((f) => `${f.what} ${f.lines}`);

Deno.test("an 81-line function is reported and an 80-line one is not", () => {
  assertEquals(fn("x", 81).split("\n").length, 81);
  const source = `/** doc */\n${fn("long", 81)}\n\n${fn("fits", 80)}\n`;
  const findings = measureSource("a.ts", source);
  assertEquals(whats(findings), ["function long 81"]);
  assertEquals(findings[0]!.line, 2, "counted from the function, not its doc");
  assertEquals(findings[0]!.limit, 80);
});

Deno.test("a nested function is measured on its own, and counts inside its parent", () => {
  const inner = fn("inner", 81).replace(/^/gm, "  ");
  const outer = fn("outer", 90, inner);
  assertEquals(outer.split("\n").length, 90);
  assertEquals(whats(measureSource("a.ts", outer)), [
    "function outer 90",
    "function inner 81",
  ]);
  // a short parent of a long child: only the child
  const short = `const wrap = () => {\n${fn("child", 81)}\n};\n`;
  assertEquals(whats(measureSource("a.ts", short)), [
    "arrow function wrap 83",
    "function child 81",
  ]);
});

Deno.test("methods, getters, constructors, arrows and function expressions are all measured, by name", () => {
  const body = "    n++;\n".repeat(80);
  const source = [
    "class Box {",
    `  constructor(n: number) {\n${body}  }`,
    `  get size(): number {\n    let n = 0;\n${body}    return n;\n  }`,
    `  #handle(n: number) {\n${body}  }`,
    `  field = (n: number) => {\n${body}  };`,
    "}",
    `const table = { run: function (n: number) {\n${body}} };`,
    `[1].map((n) => {\n${body}});`,
  ].join("\n");
  const functions = measureSource("a.ts", source).filter((f) =>
    f.what !== "file"
  );
  assertEquals(whats(functions), [
    "constructor of Box 82",
    "getter Box.size 84",
    "method Box.#handle 82",
    "arrow function Box.field 82",
    "function expression run 82",
    "arrow function 82",
  ]);
});

Deno.test("a file over 400 lines is reported, one of 400 is not", () => {
  const lines = (n: number) => "const a = 1;\n".repeat(n);
  assertEquals(measureSource("a.ts", lines(400)), []);
  const [finding] = measureSource("big.ts", lines(401));
  assertEquals(finding, {
    path: "big.ts",
    line: 1,
    what: "file",
    lines: 401,
    limit: 400,
  });
  assertEquals(
    formatFinding(finding!),
    "big.ts: file is 401 lines (limit 400)",
  );
});

Deno.test("test files, tests/ and test helpers are skipped; every other .ts file is checked", () => {
  for (
    const path of [
      "client/chat_client.ts",
      "main.ts",
      "shared/crypto/envelope.ts",
      "scripts/code_shape.ts",
      "bench/main.ts",
    ]
  ) {
    assert(isCheckedPath(path), path);
  }
  for (
    const path of [
      "client/chat_client_test.ts",
      "scripts/code_shape_test.ts",
      "tests/_harness.ts",
      "tests/cli_test.ts",
      "shared/_test_assert.ts",
      "dist/x.ts",
      "node_modules/typescript/lib/typescript.d.ts",
      "README.md",
      "types.d.ts",
    ]
  ) {
    assert(!isCheckedPath(path), path);
  }
});

Deno.test("a finding names the file and line of the function", () => {
  const [finding] = measureSource("server/x.ts", `\n\n${fn("start", 81)}\n`);
  assertEquals(
    formatFinding(finding!),
    "server/x.ts:3: function start is 81 lines (limit 80)",
  );
});
