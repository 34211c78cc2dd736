/**
 * The answers to /rooms, /who and /whois as terminal lines (the RoomsEvent,
 * WhoEvent and WhoisEvent of JSON mode, made readable).
 * @module
 */
import type { RoomsEvent, TrustLevel, WhoEvent, WhoisEvent } from "./events.ts";
import { plural, roomLabel, sanitizeForTerminal } from "./terminal_text.ts";

/** The room list: label, member count, and whether you are in it / it is current. */
export function roomsLines(event: RoomsEvent, me: string): string[] {
  if (event.rooms.length === 0) return ["no rooms"];
  const labels = event.rooms.map((r) => roomLabel(r.room, me));
  const width = Math.max(...labels.map((l) => l.length));
  const counts = event.rooms.map((r) => plural(r.members, "member"));
  const countWidth = Math.max(...counts.map((n) => n.length));
  return [
    `${plural(event.rooms.length, "room")}:`,
    ...event.rooms.map((r, i) => {
      const marks = [r.joined ? "joined" : "", r.current ? "current" : ""]
        .filter(Boolean).join(", ");
      return `  ${labels[i]!.padEnd(width)}  ${
        counts[i]!.padEnd(countWidth)
      }  ${marks}`.trimEnd();
    }),
  ];
}

const TRUST_MARK: Record<TrustLevel, string> = {
  verified: "verified ✓",
  unverified: "",
  changed: "KEY CHANGED",
};

/** The members of a room: name, short fingerprint, online, trust. */
export function whoLines(event: WhoEvent, me: string): string[] {
  const names = event.members.map((m) => sanitizeForTerminal(m.user));
  const width = Math.max(8, ...names.map((n) => n.length));
  return [
    `${plural(event.members.length, "member")} in ${
      roomLabel(event.room, me)
    }:`,
    ...event.members.map((m, i) =>
      `  ${names[i]!.padEnd(width)}  ${sanitizeForTerminal(m.fingerprint)}  ${
        (m.online ? "online" : "offline").padEnd(7)
      }  ${
        m.you
          ? "(you)"
          : m.trust === "changed"
          ? `KEY CHANGED: /whois ${names[i]}`
          : TRUST_MARK[m.trust]
      }`.trimEnd()
    ),
  ];
}

const WHOIS_STATUS: Record<TrustLevel, string> = {
  verified: "verified ✓",
  unverified: "not verified",
  changed:
    "KEY CHANGED since you verified it: nothing is encrypted to them until you /verify again",
};

/** Fingerprint, safety number, trust, and how to verify when there is a need. */
export function whoisLines(event: WhoisEvent): string[] {
  const name = sanitizeForTerminal(event.user);
  const lines = [
    name,
    `  fingerprint    ${sanitizeForTerminal(event.fingerprint)}`,
    `  safety number  ${sanitizeForTerminal(event.safetyNumber)}`,
  ];
  if (event.you) return [...lines, "  (this is you)"];
  lines.push(`  status         ${WHOIS_STATUS[event.trust]}`);
  if (event.trust !== "verified") {
    lines.push(
      `  compare the safety number with ${name} in person or by a channel you trust, then: /verify ${name} <number>`,
    );
  }
  return lines;
}
