import { assertEquals } from "../shared/_test_assert.ts";
import { HandshakeGate, networkPrefix } from "./handshake_gate.ts";
import { FrameCounter } from "./input_budget.ts";
import { RefusalLog } from "./refusal_log.ts";

const LIMITS = {
  maxHandshakes: 100,
  maxHandshakesPerIp: 8,
  maxHandshakesPerPrefix: 16,
  handshakeTimeoutMs: 10_000,
  minHandshakeMs: 1000,
  floodPenaltyMs: 10_000,
};

Deno.test("network prefixes are the /24 of an IPv4 address and the /64 of an IPv6 one", () => {
  assertEquals(networkPrefix("192.0.2.77"), "192.0.2.0/24");
  assertEquals(networkPrefix("2001:db8:1:2:3::9"), "2001:db8:1:2::/64");
  assertEquals(networkPrefix("2001:db8::1"), "2001:db8:0:0::/64");
  assertEquals(networkPrefix("::1"), "0:0:0:0::/64");
});

Deno.test("a stranger gets three quarters of the per-address and per-prefix caps, an address that logged in all of them", () => {
  const gate = new HandshakeGate(LIMITS);
  for (let i = 0; i < 6; i++) gate.started("192.0.2.1");
  assertEquals(gate.refusal("192.0.2.1"), "address_handshakes");
  gate.remember("192.0.2.1");
  assertEquals(gate.refusal("192.0.2.1"), null);
  for (let i = 0; i < 6; i++) gate.started("192.0.2.2");
  assertEquals(gate.refusal("192.0.2.3"), "prefix_handshakes");
  assertEquals(gate.refusal("192.0.3.3"), null);
  gate.ended("192.0.2.2");
  assertEquals(gate.refusal("192.0.2.3"), null);
});

Deno.test("the handshake deadline is full up to half the global cap, then shrinks to the minimum at the cap", () => {
  const gate = new HandshakeGate({
    ...LIMITS,
    maxHandshakesPerPrefix: 1000,
    maxHandshakesPerIp: 1000,
  });
  assertEquals(gate.deadlineMs(), 10_000);
  for (let i = 0; i < 75; i++) gate.started(`10.0.${i}.1`);
  assertEquals(gate.deadlineMs(), 5500);
  for (let i = 0; i < 25; i++) gate.started(`10.1.${i}.1`);
  assertEquals(gate.deadlineMs(), 1000);
  assertEquals(gate.refusal("10.9.9.9"), "server_handshakes");
});

Deno.test("frames are counted from their length headers however the bytes are split", () => {
  const frame = (n: number) => {
    const out = new Uint8Array(4 + n);
    new DataView(out.buffer).setUint32(0, n);
    return out;
  };
  const bytes = new Uint8Array([
    ...frame(3),
    ...frame(0),
    ...frame(300),
    ...frame(1),
  ]);
  for (const cut of [1, 2, 5, 9, 100, bytes.length]) {
    const counter = new FrameCounter();
    let frames = 0;
    for (let i = 0; i < bytes.length; i += cut) {
      frames += counter.count(bytes.subarray(i, i + cut));
    }
    assertEquals(frames, 4, `chunks of ${cut}`);
  }
});

Deno.test("refusals are logged once per interval with their counts by class", () => {
  const lines: string[] = [];
  const log = new RefusalLog((line) => lines.push(line), 60_000);
  for (let i = 0; i < 1000; i++) log.count("prefix_handshakes");
  log.count("address_handshakes");
  assertEquals(lines, []);
  log.flush();
  assertEquals(lines, [
    "refused 1001 connections: 1000 prefix_handshakes, 1 address_handshakes",
  ]);
  log.flush();
  assertEquals(lines.length, 1);
});

Deno.test("an address cut off for input_flood is refused for the flood penalty, then admitted again", () => {
  let now = 0;
  const gate = new HandshakeGate(LIMITS, () => now);
  gate.penalize("192.0.2.9");
  assertEquals(gate.refusal("192.0.2.9"), "flood_penalty");
  assertEquals(gate.refusal("192.0.2.10"), null);
  now = 10_001;
  assertEquals(gate.refusal("192.0.2.9"), null);
});

Deno.test("an address that keeps closing connections before a byte is refused for the flood penalty", () => {
  let now = 0;
  const gate = new HandshakeGate(LIMITS, () => now);
  for (let i = 0; i < 20; i++) gate.silentClose("192.0.2.7");
  assertEquals(gate.refusal("192.0.2.7"), null);
  gate.silentClose("192.0.2.7");
  assertEquals(gate.refusal("192.0.2.7"), "flood_penalty");
  now = 10_001;
  assertEquals(gate.refusal("192.0.2.7"), null);
});
