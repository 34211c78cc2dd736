import {
  dmParticipants,
  dmRoomName,
  isValidRoom,
  isValidUsername,
  normalizeRoomName,
  roomNameProblem,
  userKey,
  usernameProblem,
  usernameSkeleton,
} from "./names.ts";
import { assert, assertEquals, assertNotEquals } from "./_test_assert.ts";

const VALID_USERNAMES = [
  "a",
  "Z",
  "7",
  "alice",
  "Alice_B-2",
  "9lives",
  "a-",
  "a_",
  "a--__--b",
  "a".repeat(32),
  "X" + "_".repeat(31),
];

const INVALID_USERNAMES: [string, string][] = [
  ["", "empty"],
  ["a".repeat(33), "33 characters"],
  ["_alice", "starts with _"],
  ["-bob", "starts with -"],
  ["al ice", "inner space"],
  [" alice", "leading space"],
  ["alice ", "trailing space"],
  ["alice\n", "trailing newline"],
  ["alice\t", "tab"],
  ["al.ice", "dot"],
  ["al@ice", "at sign"],
  ["al:ice", "colon (the DM room separator)"],
  ["#alice", "hash"],
  ["\u0430lice", "Cyrillic а look-alike"],
  ["bob\u0435", "Cyrillic е look-alike"],
  ["\uff41lice", "fullwidth a"],
  ["ålice", "Latin letter outside ASCII"],
  ["alice\u200b", "trailing zero-width space"],
  ["al\u200dice", "zero-width joiner"],
  ["\ufeffalice", "byte-order mark"],
  ["bob\u202e", "right-to-left override"],
  ["alice\u0000", "NUL"],
];

Deno.test("usernames of 1-32 ASCII letters, digits, _ and - starting with a letter or digit are valid", () => {
  for (const name of VALID_USERNAMES) {
    assertEquals(usernameProblem(name), null, name);
    assert(isValidUsername(name), name);
  }
});

Deno.test("usernames that are empty, too long, or use anything outside the ASCII set are refused", () => {
  for (const [name, why] of INVALID_USERNAMES) {
    const problem = usernameProblem(name);
    assert(typeof problem === "string" && problem.length > 0, why);
    assert(!isValidUsername(name), why);
  }
});

Deno.test("usernameProblem says why: empty, too long, or bad characters", () => {
  assert(usernameProblem("")!.includes("empty"));
  assert(usernameProblem("a".repeat(33))!.includes("32"));
  assert(usernameProblem("al ice")!.includes("letters"));
});

Deno.test("userKey folds case and nothing else", () => {
  assertEquals(userKey("Alice_B-2"), "alice_b-2");
  assertEquals(userKey("alice"), "alice");
});

Deno.test("usernameSkeleton maps look-alike names to the same skeleton", () => {
  const groups = [
    ["alice", "A1ice", "aIice", "ALICE", "al1ce", "a1ICE"],
    ["m", "rn", "RN"],
    ["mary", "rnary"],
    ["w", "vv", "VV"],
    ["a_b", "a-b"],
    ["bob", "b0b", "BOB", "B0B"],
    ["sam", "5am"],
    ["bill", "b1ll", "bi1l", "BILL"],
  ];
  for (const group of groups) {
    const skeletons = group.map(usernameSkeleton);
    assertEquals(new Set(skeletons).size, 1, group.join(" ~ "));
  }
});

const ASCII_LOOKALIKES: [string, string][] = [
  ["clave", "dave"],
  ["c1ave", "dave"],
  ["2ed", "zed"],
  ["alice-", "alice"],
  ["alice_", "alice"],
  ["alice--", "alice"],
  ["a--b", "a-b"],
  ["a__b", "a-b"],
  ["8ob", "bob"],
  ["9reg", "greg"],
  ["5ally2", "sallyz"],
  ["rnarc-", "marc"],
];

for (const [lookalike, name] of ASCII_LOOKALIKES) {
  Deno.test(`usernameSkeleton folds ${lookalike} into ${name}`, () => {
    assertEquals(usernameSkeleton(lookalike), usernameSkeleton(name));
  });
}

Deno.test("usernameSkeleton keeps genuinely different names apart", () => {
  const pairs = [
    ["alice", "bob"],
    ["alice", "alicia"],
    ["m", "n"],
    ["carol", "carl"],
    ["ann", "anne"],
    ["a-b", "ab"],
    ["dave", "dove"],
    ["zed", "ted"],
    ["alice-b", "alice"],
    ["cave", "dave"],
  ];
  for (const [a, b] of pairs) {
    assertNotEquals(usernameSkeleton(a!), usernameSkeleton(b!), `${a} / ${b}`);
  }
});

Deno.test("dmRoomName is the same whichever side asks and folds case", () => {
  assertEquals(dmRoomName("alice", "bob"), "dm:alice:bob");
  assertEquals(dmRoomName("bob", "alice"), "dm:alice:bob");
  assertEquals(dmRoomName("Bob", "ALICE"), "dm:alice:bob");
  assertEquals(dmRoomName("alice", "Alice2"), dmRoomName("ALICE2", "alice"));
});

Deno.test("dmParticipants returns the two user keys of a well-formed DM room name", () => {
  assertEquals(dmParticipants("dm:alice:bob"), ["alice", "bob"]);
  assertEquals(dmParticipants(dmRoomName("Zed", "amy")), ["amy", "zed"]);
});

Deno.test("dmParticipants rejects malformed, unsorted, duplicate or uppercase DM names", () => {
  const bad = [
    "general",
    "dm:",
    "dm:alice",
    "dm:alice:",
    "dm::bob",
    "dm:alice:bob:carol",
    "dm:bob:alice",
    "dm:alice:alice",
    "dm:Alice:bob",
    "dm:alice:Bob",
    "DM:alice:bob",
    "dm:_x:bob",
    "dm:alice:b b",
    "dm:\u0430lice:bob",
    "#dm:alice:bob",
    `dm:alice:${"b".repeat(33)}`,
  ];
  for (const room of bad) {
    assertEquals(dmParticipants(room), null, room);
  }
});

Deno.test("isValidRoom accepts lowercase public rooms and canonical DM rooms only", () => {
  const valid = [
    "general",
    "a",
    "rust-lang",
    "team_42",
    "9",
    "a".repeat(32),
    "dm:alice:bob",
  ];
  const invalid = [
    "",
    "#general",
    "General",
    "gen eral",
    "_general",
    "-general",
    "a".repeat(33),
    "dm:bob:alice",
    "dm:alice",
    "g\u0435neral",
    "general\n",
  ];
  for (const room of valid) assert(isValidRoom(room), room);
  for (const room of invalid) assert(!isValidRoom(room), room);
});

Deno.test("roomNameProblem accepts an optional leading # and normalizeRoomName strips it and folds case", () => {
  assertEquals(roomNameProblem("#General"), null);
  assertEquals(roomNameProblem("general"), null);
  assert(roomNameProblem("##general") !== null);
  assert(roomNameProblem("#") !== null);
  assert(roomNameProblem("gen eral") !== null);
  assertEquals(normalizeRoomName("#General"), "general");
  assertEquals(normalizeRoomName("Rust-Lang"), "rust-lang");
  assert(isValidRoom(normalizeRoomName("#General")));
});

Deno.test("numbered names stay apart: no two digits fold to the same letter", () => {
  const numbered = Array.from({ length: 100 }, (_, i) => `member${i}`);
  const skeletons = new Set(numbered.map((n) => usernameSkeleton(n)));
  assertEquals(skeletons.size, numbered.length);
});
