/**
 * Client-side crypto costs, in process, with shared/ exactly as the client
 * uses it: sealing + encoding a message frame (send), decoding + checking
 * + verifying + decrypting a relayed one (receive), unwrapping a sender key, and a
 * sender-key rotation (new key, RSA-OAEP wrap + Ed25519 signature per
 * member, keys frame encoded) at several room sizes. CPU time is the whole
 * process's (all threads: WebCrypto may use a thread pool), wall time is
 * what the user waits.
 * @module
 */
import process from "node:process";
import {
  importEncryptKey,
  importVerifyKey,
} from "../shared/crypto/identity.ts";
import {
  newSenderKey,
  type SenderKey,
  unwrapSenderKey,
} from "../shared/crypto/sender_key.ts";
import { encodeClientFrame } from "../shared/client_frames.ts";
import { encodeServerFrame, parseServerBody } from "../shared/server_frames.ts";
import { wrapKeysFrame } from "../shared/keys_frame.ts";
import {
  openMessageFrame,
  relayedMessageFrame,
  sealMessageFrame,
} from "../shared/message_frame.ts";
import type { MessageFrame, SendFrame } from "../shared/protocol.ts";
import { now } from "./clock.ts";
import { type BenchIdentity, loadIdentities } from "./identities.ts";
import { stampedText } from "./payload.ts";
import { median } from "./stats.ts";

/** What to measure. */
export interface CryptoPlan {
  messages: number;
  payloadBytes: number;
  rotationSizes: number[];
  rotationRepeats: number;
}

/** Per-operation costs in ms (medians over repeats for rotations). */
export interface CryptoResult {
  sendMs: number;
  sendCpuMs: number;
  receiveMs: number;
  receiveCpuMs: number;
  unwrapMs: number;
  rotationMs: Record<string, number>;
  rotationCpuMs: Record<string, number>;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function timed(work: () => Promise<void>): Promise<[number, number]> {
  const [w0, c0] = [now(), cpuMs()];
  await work();
  return [now() - w0, cpuMs() - c0];
}

const ROOM = "bench";

/** The sender (identity 0), its verify key, and the receiver (identity 1). */
type Pair = Awaited<ReturnType<typeof loadIdentities>> & {
  alice: BenchIdentity;
  bob: BenchIdentity;
  aliceVerify: CryptoKey;
};

/**
 * Seal + encode `plan.messages` messages as the client sends them, then
 * check + verify + decrypt each as the server relays it: per-message ms.
 */
async function measureMessages(plan: CryptoPlan, { alice, aliceVerify }: Pair) {
  const key = newSenderKey(ROOM, alice.user, 1);
  const sent: SendFrame[] = [];
  let counter = 0;
  const sendOne = async () => {
    const header = {
      room: ROOM,
      sender: alice.user,
      epoch: key.epoch,
      counter: counter++,
      ts: Date.now(),
    };
    const text = stampedText(now(), plan.payloadBytes);
    const frame = await sealMessageFrame(
      key,
      header,
      { kind: "text", text },
      alice.signingKey,
      crypto.randomUUID(),
    );
    encodeClientFrame(frame); // what the client writes
    sent.push(frame);
  };
  for (let i = 0; i < 50; i++) await sendOne(); // warm up the JIT
  sent.length = 0;
  const [sendWall, sendCpu] = await timed(async () => {
    for (let i = 0; i < plan.messages; i++) await sendOne();
  });
  // what the server relays: the client's fields plus from and seq
  const frames = sent.map((frame, seq) =>
    encodeServerFrame(relayedMessageFrame({ ...frame, seq }, alice.user, false))
  );
  // the receiver's copy of the key, as unwrapped (no cached HKDF key yet)
  const receiverKey: SenderKey = { ...key };
  delete receiverKey.hkdf;
  const [receiveWall, receiveCpu] = await timed(async () => {
    for (const bytes of frames) {
      const frame = parseServerBody(bytes.subarray(4)) as MessageFrame;
      await openMessageFrame(receiverKey, frame, aliceVerify);
    }
  });
  return {
    sendMs: sendWall / plan.messages,
    sendCpuMs: sendCpu / plan.messages,
    receiveMs: receiveWall / plan.messages,
    receiveCpuMs: receiveCpu / plan.messages,
  };
}

/** A rotation to one member per key: new key, wraps, keys frame encoded. */
async function rotate(alice: BenchIdentity, encryptKeys: CryptoKey[]) {
  const k = newSenderKey(ROOM, alice.user, 2);
  const frame = await wrapKeysFrame(
    k,
    7,
    encryptKeys.map((encryptKey, i) => ({ user: `bench${i}`, encryptKey })),
    alice.signingKey,
  );
  encodeClientFrame(frame);
  return frame.wraps;
}

/** `n` imports of the shared RSA public key, as a client holds its members'. */
async function keysFor(pair: Pair, n: number): Promise<CryptoKey[]> {
  const keys: CryptoKey[] = [];
  for (let i = 0; i < n; i++) keys.push(await importEncryptKey(pair.rsa.spki));
  return keys;
}

/** Median wall and CPU ms of a rotation at each room size. */
async function measureRotations(plan: CryptoPlan, pair: Pair) {
  const rotationMs: Record<string, number> = {};
  const rotationCpuMs: Record<string, number> = {};
  await rotate(pair.alice, await keysFor(pair, 10)); // warm up
  for (const size of plan.rotationSizes) {
    const keys = await keysFor(pair, size);
    const walls: number[] = [], cpus: number[] = [];
    for (let r = 0; r < plan.rotationRepeats; r++) {
      const [w, c] = await timed(async () =>
        void await rotate(pair.alice, keys)
      );
      walls.push(w);
      cpus.push(c);
    }
    rotationMs[String(size)] = median(walls);
    rotationCpuMs[String(size)] = median(cpus);
  }
  return { rotationMs, rotationCpuMs };
}

/** Median ms of one unwrap, paid once per sender-epoch (bob is "bench1"). */
async function measureUnwrap(pair: Pair): Promise<number> {
  const { alice, bob, rsa, aliceVerify } = pair;
  const wrap = (await rotate(alice, await keysFor(pair, 2)))[1]!;
  const unwraps: number[] = [];
  for (let r = 0; r < 5; r++) {
    const [w] = await timed(async () => {
      await unwrapSenderKey(
        { room: ROOM, from: alice.user, epoch: 2, roster: 7, ...wrap },
        { user: bob.user, decryptKey: rsa.decryptKey },
        aliceVerify,
      );
    });
    unwraps.push(w);
  }
  return median(unwraps);
}

/** Run the microbenchmarks with identities 0 (sender) and 1 (receiver). */
export async function runCryptoMicro(plan: CryptoPlan): Promise<CryptoResult> {
  const loaded = await loadIdentities([0, 1]);
  const alice = loaded.users.get(0)!;
  const pair: Pair = {
    ...loaded,
    alice,
    bob: loaded.users.get(1)!,
    aliceVerify: await importVerifyKey(alice.idKey),
  };
  const messages = await measureMessages(plan, pair);
  const rotations = await measureRotations(plan, pair);
  return { ...messages, unwrapMs: await measureUnwrap(pair), ...rotations };
}
