/**
 * A load-generator worker process: holds a share of the simulated clients
 * and obeys the coordinator (bench/worker_pool.ts). Commands arrive as JSON
 * lines on stdin, answers leave as JSON lines on stdout (same `id`).
 *
 *   prepare  → load identities, build the clients
 *   connect  → TLS + login (+ join), `concurrency` at a time
 *   status   → counters, for polling
 *   warmup   → every sender sends one message (rotating its key first)
 *   go       → the measured phase: send at a rate, or as fast as the window allows
 *   collect  → latencies, errors and counts
 *   close    → close every connection and exit
 * @module
 */
import { now, sleepUntil } from "./clock.ts";
import { ChatMember, type ChatSetup } from "./chat_member.ts";
import { benchUserName, loadIdentities } from "./identities.ts";
import { RelayMember, type RelaySetup } from "./relay_member.ts";
import { type MemberSpec, WorkerContext } from "./worker_context.ts";

/** The `prepare` command. */
export interface PrepareCommand {
  cmd: "prepare";
  target: "chat" | "relay";
  port: number;
  caPem: string;
  room: string | null;
  payloadBytes: number;
  lineBytes: number;
  readBufferBytes: number;
  members: MemberSpec[];
}

/** The `go` command. */
export interface GoCommand {
  cmd: "go";
  t0: number;
  durationMs: number;
  /** Messages per second per sender, or null for as fast as the window allows. */
  ratePerSender: number | null;
  /** --asap: messages a sender may have ahead of what the pacer has seen. */
  window: number;
  /** Start offset (ms) of each sender, by identity index, to spread sends evenly. */
  offsets: Record<string, number>;
}

type Member = ChatMember | RelayMember;

const ctx = new WorkerContext();
let members: Member[] = [];
let sendersRunning: Promise<void>[] = [];
let sendersDone = 0;

async function prepare(c: PrepareCommand): Promise<unknown> {
  if (c.target === "chat") {
    const { rsa, users } = await loadIdentities(c.members.map((m) => m.index));
    const setup: ChatSetup = {
      port: c.port,
      caPem: c.caPem,
      serverName: "127.0.0.1",
      room: c.room,
      payloadBytes: c.payloadBytes,
      decryptKey: rsa.decryptKey,
      readBufferBytes: c.readBufferBytes,
    };
    members = c.members.map((m) =>
      new ChatMember(m, users.get(m.index)!, ctx, setup)
    );
  } else {
    const setup: RelaySetup = {
      port: c.port,
      caPem: c.caPem,
      lineBytes: c.lineBytes,
      readBufferBytes: c.readBufferBytes,
    };
    members = c.members.map((m) =>
      new RelayMember(m, benchUserName(m.index), ctx, setup)
    );
  }
  return { members: members.length };
}

const connected = new Set<Member>();

async function connect(
  concurrency: number,
  only: number[] | null,
): Promise<unknown> {
  const started = now();
  const todo = members.filter((m) =>
    !connected.has(m) && (only === null || only.includes(m.spec.index))
  );
  let next = 0, ok = 0, failed = 0;
  let firstError: string | null = null;
  const lane = async () => {
    while (next < todo.length) {
      const member = todo[next++]!;
      try {
        await member.connect();
        connected.add(member);
        ok++;
      } catch (error) {
        failed++;
        firstError ??= `${member.name}: ${(error as Error).message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { connected: ok, failed, firstError, ms: now() - started };
}

function status(): unknown {
  let minMembersKnown = Infinity, sent = 0;
  for (const m of members) {
    sent += m.sentMeasured;
    if (m instanceof ChatMember && m.spec.role !== "member") {
      minMembersKnown = Math.min(minMembersKnown, m.members.size);
    }
  }
  return {
    delivered: ctx.delivered,
    deliveredInWindow: ctx.deliveredInWindow,
    errors: ctx.errors,
    errorsTotal: ctx.errorsTotal,
    disconnects: ctx.disconnects,
    sent,
    sendersDone,
    senders: members.filter((m) => m.spec.role === "sender").length,
    minMembersKnown: minMembersKnown === Infinity ? -1 : minMembersKnown,
    firstErrors: ctx.errorSamples.slice(0, 3),
  };
}

async function runSender(m: Member, go: GoCommand): Promise<void> {
  const end = go.t0 + go.durationMs;
  if (go.ratePerSender !== null) {
    const interval = 1000 / go.ratePerSender;
    const offset = go.offsets[String(m.spec.index)] ?? 0;
    for (let i = 0;; i++) {
      const due = go.t0 + offset + i * interval;
      if (due >= end) break;
      await sleepUntil(due);
      m.send(due); // open loop: a late generator does not slow the schedule down
    }
  } else {
    await sleepUntil(go.t0);
    while (now() < end) {
      while (
        m.sentMeasured - m.refusedMeasured - ctx.seen(m.name) >= go.window &&
        now() < end
      ) {
        await ctx.waitProgress(100);
      }
      if (now() >= end) break;
      await m.send(null);
    }
  }
  await m.settled();
  sendersDone++;
}

async function handle(c: { cmd: string } & Record<string, unknown>) {
  switch (c.cmd) {
    case "prepare":
      return await prepare(c as unknown as PrepareCommand);
    case "connect":
      return await connect(
        Number(c.concurrency),
        Array.isArray(c.only) ? c.only as number[] : null,
      );
    case "status":
      return status();
    case "warmup":
      await Promise.all(
        members.filter((m) => m.spec.role === "sender").map((m) =>
          m.send(null)
        ),
      );
      return {};
    case "go": {
      const go = c as unknown as GoCommand;
      ctx.startWindow(go.t0, go.t0 + go.durationMs);
      for (const m of members) m.sentMeasured = 0;
      sendersDone = 0;
      sendersRunning = members.filter((m) => m.spec.role === "sender").map(
        (m) => runSender(m, go),
      );
      return {};
    }
    case "collect":
      await Promise.all(sendersRunning);
      await Promise.all(members.map((m) => m.settled()));
      return {
        ...status() as object,
        latencies: ctx.latencies,
        errorSamples: ctx.errorSamples,
        pongs: ctx.pongs,
        maxSendLagMs: ctx.maxSendLagMs,
      };
    case "close":
      await Promise.all(members.map((m) => m.close()));
      members = [];
      connected.clear();
      return {};
    default:
      throw new Error(`unknown command ${c.cmd}`);
  }
}

const encoder = new TextEncoder();
async function reply(message: unknown): Promise<void> {
  const bytes = encoder.encode(JSON.stringify(message) + "\n");
  let written = 0;
  while (written < bytes.length) {
    written += await Deno.stdout.write(bytes.subarray(written));
  }
}

let replies = Promise.resolve();
let buffered = "";
const decoder = new TextDecoder();
for await (const chunk of Deno.stdin.readable) {
  buffered += decoder.decode(chunk, { stream: true });
  let nl: number;
  while ((nl = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    const command = JSON.parse(line) as { id: number; cmd: string };
    handle(command).then(
      (result) => ({ id: command.id, ok: true, result }),
      (error) => ({
        id: command.id,
        ok: false,
        error: String(error?.stack ?? error),
      }),
    ).then((message) => {
      replies = replies.then(() => reply(message));
    });
  }
}
await replies;
