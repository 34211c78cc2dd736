/**
 * Carrying out what the user typed against a ChatClient. Shared by the
 * interactive terminal and the line/JSON mode.
 * @module
 */
import {
  formatFingerprint,
  safetyNumber,
  safetyNumbersMatch,
  shortFingerprint,
} from "../shared/crypto/identity.ts";
import type { Identity } from "../shared/crypto/identity.ts";
import { userKey } from "../shared/names.ts";
import type { ChatClient } from "./chat_client.ts";
import { COMMAND_HELP, parseInput } from "./commands.ts";
import type { EventSink } from "./events.ts";
import type { TrustStore } from "./trust_store.ts";
import type { Person } from "./room_view.ts";
import { roomLabel } from "./render.ts";
import { SaveRefused, saveToFile } from "./safe_save.ts";
import { defaultTranscriptName, formatTranscript } from "./transcript.ts";

/** What the runner needs. */
export interface CommandContext {
  client: ChatClient;
  identity: Identity;
  trust: TrustStore;
  emit: EventSink;
}

/** Handle one input line. Resolves "quit" when the user asked to leave. */
export async function handleInput(
  line: string,
  ctx: CommandContext,
): Promise<"quit" | "continue"> {
  const parsed = parseInput(line);
  const system = (message: string) => ctx.emit({ type: "system", message });
  const error = (message: string) => ctx.emit({ type: "error", message });
  switch (parsed.kind) {
    case "empty":
      return "continue";
    case "invalid":
      error(parsed.message);
      return "continue";
    case "text":
      ctx.client.send(parsed.text);
      return "continue";
  }
  const command = parsed.command;
  switch (command.name) {
    case "help":
      system(COMMAND_HELP);
      break;
    case "quit":
      return "quit";
    case "who": {
      const room = ctx.client.room(ctx.client.currentRoom);
      if (!room) {
        error("you are not in a room");
        break;
      }
      const lines = [...room.members.values()]
        .sort((a, b) => a.key.localeCompare(b.key))
        .map((m) =>
          `  ${m.user.padEnd(16)} ${shortFingerprint(m.fingerprint)}  ${
            m.online ? "online" : "offline"
          }${trustMark(ctx.trust, m)}`
        );
      system(
        `${room.members.size} in ${ctx.client.currentRoom}:\n${
          lines.join("\n")
        }`,
      );
      break;
    }
    case "rooms":
      ctx.client.listRooms();
      break;
    case "join":
      if (!ctx.client.switchTo(command.room)) {
        await ctx.client.join(command.room);
      } else system(`now talking in #${command.room}`);
      break;
    case "leave":
      ctx.client.leave(command.room ?? ctx.client.currentRoom);
      break;
    case "msg":
      await ctx.client.sendDirect(command.user, command.text);
      break;
    case "me":
      ctx.client.send(command.text, "me");
      break;
    case "whois": {
      const person = await findPerson(ctx, command.user);
      if (!person) {
        error(`no user named ${command.user}`);
        break;
      }
      const mine = await safetyNumber(ctx.identity, person.identity);
      system(
        [
          `${person.user}`,
          `  fingerprint    ${formatFingerprint(person.fingerprint)}`,
          `  safety number  ${mine}`,
          `  status         ${statusOf(ctx.trust, person)}`,
          person.key === userKey(ctx.identity.user)
            ? "  (this is you)"
            : `  compare the safety number with ${person.user} in person or by a channel you trust, then: /verify ${person.user} <number>`,
        ].join("\n"),
      );
      break;
    }
    case "load": {
      const room = ctx.client.currentRoom;
      const label = roomLabel(room, userKey(ctx.identity.user));
      const count = await ctx.client.loadOlder(room, command.count);
      if (count === null) break; // refused or cut off: the reason was reported
      system(
        count === 0
          ? `no earlier messages in ${label}`
          : `loaded ${count} earlier message${
            count === 1 ? "" : "s"
          } of ${label}`,
      );
      break;
    }
    case "save": {
      const room = ctx.client.currentRoom;
      const entries = ctx.client.transcript.entries(room);
      try {
        const path = await saveToFile(
          command.path,
          defaultTranscriptName(room, new Date(), command.format),
          formatTranscript(room, entries, command.format),
          Deno.cwd(),
        );
        system(
          `saved ${entries.length} message${
            entries.length === 1 ? "" : "s"
          } of ${roomLabel(room, userKey(ctx.identity.user))} to ${path}`,
        );
      } catch (e) {
        if (e instanceof SaveRefused) error(`not saved: ${e.message}`);
        else error(`not saved: ${(e as Error).message}`);
      }
      break;
    }
    case "mod":
      ctx.client.moderate(command.frame);
      break;
    case "ignore":
      if (command.user === null) {
        const list = ctx.trust.ignored;
        system(
          list.length ? `ignoring: ${list.join(", ")}` : "you ignore nobody",
        );
      } else {
        await ctx.trust.setIgnored(command.user, true);
        system(
          `ignoring ${command.user}: their messages are hidden (/unignore ${command.user})`,
        );
      }
      break;
    case "unignore":
      await ctx.trust.setIgnored(command.user, false);
      system(`no longer ignoring ${command.user}`);
      break;
    case "verify": {
      const person = await findPerson(ctx, command.user);
      if (!person) {
        error(`no user named ${command.user}`);
        break;
      }
      const expected = await safetyNumber(ctx.identity, person.identity);
      if (!safetyNumbersMatch(command.safetyNumber, expected)) {
        error(
          `the safety number does NOT match ${person.user}'s current key; do not trust this key (see /whois ${person.user})`,
        );
        break;
      }
      const wasBlocked = ctx.trust.isBlocked(person.key);
      await ctx.trust.verify(person.key, person.fingerprint);
      if (wasBlocked) ctx.client.rekeyRoomsWith(person.key);
      system(`${person.user} is now verified`);
      break;
    }
  }
  return "continue";
}

function trustMark(trust: TrustStore, person: Person): string {
  const entry = trust.get(person.key);
  if (entry?.blocked) return "  KEY CHANGED";
  return entry?.verified ? "  verified" : "";
}

function statusOf(trust: TrustStore, person: Person): string {
  const entry = trust.get(person.key);
  if (entry?.blocked) {
    return "KEY CHANGED since you verified it: nothing is encrypted to them until you /verify again";
  }
  return entry?.verified ? "verified" : "not verified";
}

async function findPerson(
  ctx: CommandContext,
  user: string,
): Promise<Person | undefined> {
  const known = ctx.client.people.get(user);
  if (known) return known;
  const member = await ctx.client.lookup(user);
  if (!member) return undefined;
  return (await ctx.client.people.see(member)).person;
}
