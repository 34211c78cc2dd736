import { generateIdentity } from "./crypto/identity.ts";
import { newSenderKey, unwrapSenderKey } from "./crypto/sender_key.ts";
import { parseClientFrame } from "./client_frames.ts";
import { wrapKeysFrame } from "./keys_frame.ts";
import { assertEquals } from "./_test_assert.ts";

const [alice, bob, carol] = await Promise.all(
  ["alice", "Bob", "carol"].map((name) => generateIdentity(name)),
);

Deno.test("wrapKeysFrame wraps the key for every recipient, each of whom unwraps the same key", async () => {
  const key = newSenderKey("general", "alice", 4);
  const frame = await wrapKeysFrame(
    key,
    9,
    [bob!, carol!].map((who) => ({
      user: who.user.toLowerCase(),
      encryptKey: who.encryptKey,
    })),
    alice!.signingKey,
  );
  assertEquals(parseClientFrame({ ...frame }), frame);
  assertEquals([frame.room, frame.epoch, frame.roster], ["general", 4, 9]);
  assertEquals(frame.wraps.map((w) => w.to), ["bob", "carol"]);
  for (const [i, who] of [bob!, carol!].entries()) {
    const unwrapped = await unwrapSenderKey(
      {
        room: "general",
        from: "alice",
        epoch: 4,
        roster: 9,
        ...frame.wraps[i]!,
      },
      { user: who.user, decryptKey: who.decryptKey },
      alice!.verifyKey,
    );
    assertEquals(unwrapped.key, key.key);
  }
});

Deno.test("wrapKeysFrame with nobody to wrap for is an empty keys frame", async () => {
  const frame = await wrapKeysFrame(
    newSenderKey("general", "alice", 1),
    1,
    [],
    alice!.signingKey,
  );
  assertEquals(frame, {
    t: "keys",
    room: "general",
    epoch: 1,
    roster: 1,
    wraps: [],
  });
});
