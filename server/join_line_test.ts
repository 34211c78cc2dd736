/** chatCommand(): the join line runs the way this program was started. */
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import { assertEquals } from "../shared/_test_assert.ts";
import { PERMISSION_FLAGS } from "../scripts/permissions.ts";
import {
  chatCommand,
  currentInvocation,
  type Invocation,
  shellWord,
} from "./join_line.ts";

const project = "/home/ann/src/chat";
const source: Invocation = {
  compiled: false,
  argv0: "deno",
  projectDir: project,
  cwd: project,
  denoVersion: "2.9.6",
};
const flags = PERMISSION_FLAGS.join(" ");

const cases: [string, Partial<Invocation>, string][] = [
  [
    "from source in the project directory: the deno task",
    {},
    "npx -y deno@2.9.6 task join",
  ],
  [
    "a trailing slash on the working directory changes nothing",
    { cwd: `${project}/` },
    "npx -y deno@2.9.6 task join",
  ],
  [
    "the version that runs us is the version printed",
    { denoVersion: "2.10.0" },
    "npx -y deno@2.10.0 task join",
  ],
  [
    "from source elsewhere: deno run with the permission list and main.ts's path",
    { cwd: "/tmp" },
    `npx -y deno@2.9.6 run ${flags} ${project}/main.ts join`,
  ],
  [
    "from a subdirectory too (a task would run in the project directory)",
    { cwd: `${project}/docs` },
    `npx -y deno@2.9.6 run ${flags} ${project}/main.ts join`,
  ],
  [
    "a path with a space is quoted",
    { cwd: "/tmp", projectDir: "/home/ann/my chat" },
    `npx -y deno@2.9.6 run ${flags} '/home/ann/my chat/main.ts' join`,
  ],
  [
    "a compiled binary found on PATH: its name",
    { compiled: true, argv0: "chat", cwd: "/srv" },
    "chat join",
  ],
  [
    "a compiled binary run by path: that path, wherever we are",
    { compiled: true, argv0: "./dist/chat", cwd: project },
    "./dist/chat join",
  ],
  [
    "a compiled binary with an unknown argv[0]: chat",
    { compiled: true, argv0: "" },
    "chat join",
  ],
];

for (const [name, change, expected] of cases) {
  Deno.test(`join line: ${name}`, () => {
    assertEquals(chatCommand({ ...source, ...change }, "join"), expected);
  });
}

Deno.test("shellWord leaves plain words alone and single-quotes the rest", () => {
  assertEquals(shellWord("certs/ca.pem"), "certs/ca.pem");
  assertEquals(shellWord("/tmp/a b/ca.pem"), "'/tmp/a b/ca.pem'");
  assertEquals(shellWord("it's"), `'it'\\''s'`);
  assertEquals(shellWord("$HOME"), "'$HOME'");
});

Deno.test("this test process runs from source, with main.ts one directory up", () => {
  const inv = currentInvocation();
  assertEquals(inv.compiled, false);
  assertEquals(
    inv.projectDir,
    dirname(fileURLToPath(new URL("../main.ts", import.meta.url))),
  );
  assertEquals(inv.cwd, Deno.cwd());
  assertEquals(inv.denoVersion, Deno.version.deno);
});
