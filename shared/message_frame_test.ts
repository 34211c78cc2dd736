import { generateIdentity } from "./crypto/identity.ts";
import { newSenderKey, type SenderKey } from "./crypto/sender_key.ts";
import { CryptoError } from "./errors.ts";
import { parseClientFrame } from "./client_frames.ts";
import { encodeServerFrame, parseServerBody } from "./server_frames.ts";
import type { MessageFrame } from "./frame_types.ts";
import {
  messageHeaderOf,
  openMessageFrame,
  relayedMessageFrame,
  sealedMessageOf,
  sealMessageFrame,
} from "./message_frame.ts";
import { assert, assertEquals, assertRejects } from "./_test_assert.ts";

const ID = "0f8fad5b-d9cb-469f-a165-70867728950e";
const alice = await generateIdentity("Alice");
const mallory = await generateIdentity("mallory");

/** Alice seals "hi" in general; the server relays it as seq 7. */
async function relayed(key: SenderKey, history = false) {
  const header = {
    room: "general",
    sender: "Alice",
    epoch: 3,
    counter: 5,
    ts: 1_700_000_000_000,
  };
  const sent = await sealMessageFrame(
    key,
    header,
    { kind: "me", text: "waves" },
    alice.signingKey,
    ID,
  );
  return {
    header,
    sent,
    frame: relayedMessageFrame({ ...sent, seq: 7 }, "Alice", history),
  };
}

Deno.test("sealMessageFrame builds a msg frame the server's parser accepts as it is", async () => {
  const { header, sent } = await relayed(newSenderKey("general", "alice", 3));
  assertEquals(parseClientFrame({ ...sent }), sent);
  assertEquals(sent.id, ID);
  assertEquals(
    [sent.room, sent.epoch, sent.counter, sent.ts],
    [header.room, header.epoch, header.counter, header.ts],
  );
});

Deno.test("a relayed msg frame survives the wire and opens to the sealed body", async () => {
  const key = newSenderKey("general", "alice", 3);
  const { header, frame } = await relayed(key);
  const bytes = encodeServerFrame(frame);
  const back = parseServerBody(bytes.subarray(4)) as MessageFrame;
  assertEquals(back, frame);
  assertEquals(messageHeaderOf(back), header);
  assertEquals(sealedMessageOf(back).iv.length, 12);
  const receiverKey: SenderKey = { ...key };
  delete receiverKey.hkdf;
  assertEquals(await openMessageFrame(receiverKey, back, alice.verifyKey), {
    kind: "me",
    text: "waves",
  });
});

Deno.test("relayedMessageFrame puts t first and marks only history replays", async () => {
  const key = newSenderKey("general", "alice", 3);
  const live = (await relayed(key)).frame;
  const replay = (await relayed(key, true)).frame;
  assertEquals(Object.keys(live)[0], "t");
  assert(!("history" in live));
  assertEquals(replay.history, true);
  assertEquals([live.from, live.seq], ["Alice", 7]);
});

Deno.test("openMessageFrame refuses another signer, a changed header and bad base64url", async () => {
  const key = newSenderKey("general", "alice", 3);
  const { frame } = await relayed(key);
  await assertRejects(
    () => openMessageFrame(key, frame, mallory.verifyKey),
    CryptoError,
    "bad signature",
  );
  await assertRejects(
    () => openMessageFrame(key, { ...frame, counter: 6 }, alice.verifyKey),
    CryptoError,
  );
  await assertRejects(
    () => openMessageFrame(key, { ...frame, iv: "!!" }, alice.verifyKey),
    TypeError,
  );
});
