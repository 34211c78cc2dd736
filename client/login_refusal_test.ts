/** Each login refusal code gets a hint that fits it, and a fitting fate for new keys. */
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { keysAfterRefusal, loginRefusalHint } from "./login_refusal.ts";

const context = { user: "dave", invite: true, fingerprintHex: "ab".repeat(32) };
const GENERIC = "check --server, --ca and --user";

/** Every code the server refuses a first login with (server/*.ts). */
const CODES = [
  "bad_invite",
  "name_taken",
  "not_invited",
  "banned",
  "wrong_server",
  "too_many_failures",
  "server_full",
  "too_many_connections",
  "room_full",
  "bad_key",
  "auth_failed",
  "auth_required",
  "internal",
  "store_unavailable",
];

Deno.test("every refusal code the server sends has its own hint, not the generic one", () => {
  const hints = CODES.map((code) => loginRefusalHint(code, context));
  for (const [i, hint] of hints.entries()) {
    assert(hint !== GENERIC, `${CODES[i]} gets the generic hint`);
  }
  assertEquals(new Set(hints).size, hints.length, "hints are distinct");
});

Deno.test("a spent invite suggests a new one, or joining without --invite", () => {
  const hint = loginRefusalHint("bad_invite", context);
  assert(hint.includes("ask for a new one"), hint);
  assert(hint.includes("leave out --invite: chat join --user dave"), hint);
});

Deno.test("an invite-only refusal gives the /allow line for this key", () => {
  const hint = loginRefusalHint("not_invited", context);
  assert(
    hint.includes(`ask an operator to run: /allow ${"ab".repeat(32)}`),
    hint,
  );
});

Deno.test("an unknown code, or none, keeps the generic hint", () => {
  assertEquals(loginRefusalHint("something_new", context), GENERIC);
  assertEquals(loginRefusalHint(undefined, context), GENERIC);
});

Deno.test("new keys are forgotten only when the refusal proves nothing was registered", () => {
  const table: [string | undefined, string][] = [
    ["name_taken", "forget"],
    ["bad_invite", "forget"],
    ["banned", "forget"],
    // an invite-only server names this key's fingerprint for /allow: the
    // key must be the one the next login uses
    ["not_invited", "keep"],
    ["server_full", "forget"],
    // accepted, only the room was full: the name is registered with them
    ["room_full", "keep"],
    // may have failed after the name was claimed: keep them pending
    ["internal", "pending"],
    ["store_unavailable", "pending"],
    [undefined, "pending"],
  ];
  for (const [code, fate] of table) {
    assertEquals(keysAfterRefusal(code), fate, String(code));
  }
});
