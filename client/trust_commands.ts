/**
 * The people-and-trust commands: /who (/names), /whois, /verify, /ignore,
 * /unignore. Who and whois answer with structured events; trust comes from
 * the TrustStore.
 * @module
 */
import {
  formatFingerprint,
  safetyNumber,
  safetyNumbersMatch,
  shortFingerprint,
} from "../shared/crypto/identity.ts";
import { userKey } from "../shared/names.ts";
import type { TrustLevel, WhoMember } from "./events.ts";
import type { Person } from "./room_view.ts";
import type { TrustStore } from "./trust_store.ts";
import {
  type CommandContext,
  error,
  type InputOutcome,
  system,
} from "./command_context.ts";

/** How far this user trusts `user`'s key: verified, unverified, or changed since verified (blocked). */
export function trustLevel(trust: TrustStore, user: string): TrustLevel {
  const entry = trust.get(user);
  if (entry?.blocked) return "changed";
  return entry?.verified ? "verified" : "unverified";
}

/** /who, /names: the current room's members as a `who` event. */
export function who(_: unknown, ctx: CommandContext): InputOutcome {
  const name = ctx.client.currentRoom;
  const room = ctx.client.room(name);
  if (!room) return error(ctx, "you are not in a room; /join one");
  const me = userKey(ctx.identity.user);
  const members: WhoMember[] = [...room.members.values()]
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((m) => ({
      user: m.user,
      fingerprint: shortFingerprint(m.fingerprint),
      online: m.online,
      trust: trustLevel(ctx.trust, m.key),
      you: m.key === me,
    }));
  ctx.emit({ type: "who", room: name, members });
  return "continue";
}

/** /whois USER: fingerprint, safety number and trust as a `whois` event. */
export async function whois(
  { user }: { user: string },
  ctx: CommandContext,
): Promise<InputOutcome> {
  const person = await findPerson(ctx, user);
  if (!person) return error(ctx, `no user named ${user}`);
  ctx.emit({
    type: "whois",
    user: person.user,
    fingerprint: formatFingerprint(person.fingerprint),
    safetyNumber: await safetyNumber(ctx.identity, person.identity),
    trust: trustLevel(ctx.trust, person.key),
    you: person.key === userKey(ctx.identity.user),
  });
  return "continue";
}

/** /verify USER NUMBER: mark USER verified when the safety number matches. */
export async function verify(
  { user, safetyNumber: typed }: { user: string; safetyNumber: string },
  ctx: CommandContext,
): Promise<InputOutcome> {
  const person = await findPerson(ctx, user);
  if (!person) return error(ctx, `no user named ${user}`);
  const expected = await safetyNumber(ctx.identity, person.identity);
  if (!safetyNumbersMatch(typed, expected)) {
    return error(
      ctx,
      `the safety number does NOT match ${person.user}'s current key; do not trust this key (see /whois ${person.user})`,
    );
  }
  const wasBlocked = ctx.trust.isBlocked(person.key);
  await ctx.trust.verify(person.key, person.fingerprint);
  if (wasBlocked) ctx.client.rekeyRoomsWith(person.key);
  return system(ctx, `${person.user} is now verified`);
}

/** /ignore: list whom you ignore; /ignore USER: hide their messages. */
export async function ignore(
  { user }: { user: string | null },
  ctx: CommandContext,
): Promise<InputOutcome> {
  if (user === null) {
    const list = ctx.trust.ignored;
    return system(
      ctx,
      list.length ? `ignoring: ${list.join(", ")}` : "you ignore nobody",
    );
  }
  await ctx.trust.setIgnored(user, true);
  return system(
    ctx,
    `ignoring ${user}: their messages are hidden (/unignore ${user})`,
  );
}

/** /unignore USER: show their messages again. */
export async function unignore(
  { user }: { user: string },
  ctx: CommandContext,
): Promise<InputOutcome> {
  await ctx.trust.setIgnored(user, false);
  return system(ctx, `no longer ignoring ${user}`);
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
