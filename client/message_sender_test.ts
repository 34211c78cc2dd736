/**
 * Refusals of a sent message: a stale key is retried (with growing waits)
 * far past the old five tries, so a sender in a churning room does not
 * give up while the others chat on; other refusals drop it.
 */
import { assertEquals } from "../shared/_test_assert.ts";
import type { EngineContext } from "./engine_context.ts";
import { MessageSender } from "./message_sender.ts";
import type { RoomView } from "./room_view.ts";

const ID = "00000000-0000-4000-8000-000000000001";

/** A sender that is not connected (nothing is written) holding one message, ID. */
function offlineSenderWithOne(): MessageSender {
  const quiet = () => {};
  const ctx = {
    me: "alice",
    rooms: new Map([["general", { live: false } as unknown as RoomView]]),
    link: { connected: false, connection: null },
    say: { error: quiet, system: quiet, label: (r: string) => r },
  } as unknown as EngineContext;
  const sender = new MessageSender(ctx, 10);
  const randomUUID = crypto.randomUUID;
  crypto.randomUUID = () => ID;
  try {
    assertEquals(
      sender.send("general", { kind: "text", text: "hi" }),
      "queued",
    );
  } finally {
    crypto.randomUUID = randomUUID;
  }
  return sender;
}

Deno.test("a message refused as stale_key is retried 40 times, not 5, before it is dropped", () => {
  const sender = offlineSenderWithOne();
  try {
    for (let i = 0; i < 40; i++) {
      assertEquals(sender.refused(ID, "stale_key", undefined), "retried");
    }
    assertEquals(sender.refused(ID, "stale_key", undefined), "dropped");
    assertEquals(sender.pendingCount, 0);
  } finally {
    sender.stop(true); // clears the retry timers
  }
});

Deno.test("a message refused for another reason is dropped at once", () => {
  const sender = offlineSenderWithOne();
  try {
    assertEquals(sender.refused(ID, "muted", undefined), "dropped");
    assertEquals(sender.refusedCount, 1);
  } finally {
    sender.stop(true);
  }
});
