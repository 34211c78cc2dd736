import { nameMatches } from "./login_check.ts";

const cases: [string, string, boolean][] = [
  ["chat.example.org", "chat.example.org", true],
  ["Chat.Example.org", "chat.EXAMPLE.org", true],
  ["*.example.org", "chat.example.org", true],
  ["*.example.org", "example.org", false],
  ["*.example.org", "a.b.example.org", false],
  ["*.example.org", ".example.org", false],
  ["127.0.0.1", "127.0.0.1", true],
  ["127.0.0.1", "127.0.0.2", false],
  ["example.org", "*.example.org", false],
];

for (const [pattern, host, expected] of cases) {
  Deno.test(`certificate name ${pattern} ${expected ? "covers" : "does not cover"} ${host}`, () => {
    if (nameMatches(pattern, host) !== expected) {
      throw new Error(`nameMatches(${pattern}, ${host}) should be ${expected}`);
    }
  });
}
