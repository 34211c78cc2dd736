/**
 * Who may open a DM with whom: people who share a room, people the
 * recipient /allow-dm'd, anyone on a server with --open-dms.
 */
import { assertEquals, assertRejects } from "../shared/_test_assert.ts";
import { ProtocolError } from "../shared/errors.ts";
import { dmParticipants } from "../shared/names.ts";
import type { HubSession } from "./hub.ts";
import { framesOf, withHub } from "./_test_hub.ts";

function dmJoined(s: HubSession): boolean {
  return framesOf(s).some((f) =>
    f.t === "joined" && dmParticipants(f.room) !== null
  );
}

Deno.test("a stranger cannot pull someone into a DM: dm_refused, and nobody joins", async () => {
  await withHub({ openDms: false }, async (hub, login) => {
    const mallory = await login("mallory");
    const alice = await login("alice");
    const error = await assertRejects(
      () => Promise.resolve(hub.handle(mallory, { t: "dm", user: "alice" })),
      ProtocolError,
    );
    assertEquals(error.code, "dm_refused");
    assertEquals(dmJoined(alice) || dmJoined(mallory), false);
  });
});

Deno.test("people who share a room may open a DM", async () => {
  await withHub({ openDms: false }, async (hub, login) => {
    const bob = await login("bob");
    const alice = await login("alice");
    await hub.handle(bob, { t: "join", room: "general" });
    await hub.handle(alice, { t: "join", room: "general" });
    await hub.handle(bob, { t: "dm", user: "alice" });
    assertEquals(dmJoined(alice), true);
  });
});

Deno.test("/allow-dm lets one stranger in; /deny-dm takes it back", async () => {
  await withHub({ openDms: false }, async (hub, login) => {
    const carol = await login("carol");
    const alice = await login("alice");
    await hub.handle(alice, { t: "allow_dm", user: "carol", allow: true });
    assertEquals(framesOf(alice).at(-1)?.t, "notice");
    await hub.handle(carol, { t: "dm", user: "alice" });
    assertEquals(dmJoined(alice), true);
    const dave = await login("dave");
    await hub.handle(alice, { t: "allow_dm", user: "dave", allow: true });
    await hub.handle(alice, { t: "allow_dm", user: "dave", allow: false });
    await assertRejects(
      () => Promise.resolve(hub.handle(dave, { t: "dm", user: "alice" })),
      ProtocolError,
      "has not allowed DMs",
    );
  });
});

Deno.test("--open-dms keeps the old rule: anyone may open a DM with anyone", async () => {
  await withHub({ openDms: true }, async (hub, login) => {
    const mallory = await login("mallory");
    const alice = await login("alice");
    await hub.handle(mallory, { t: "dm", user: "alice" });
    assertEquals(dmJoined(alice), true);
  });
});
