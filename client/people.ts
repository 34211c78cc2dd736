/**
 * Everyone this client has seen: public keys imported once, fingerprints,
 * and the trust-on-first-use check that raises the alarm on a key change.
 * @module
 */
import {
  decodePublicIdentity,
  fingerprint,
  importEncryptKey,
  importVerifyKey,
  sameKeys,
} from "../shared/crypto/identity.ts";
import type { MemberInfo } from "../shared/protocol.ts";
import { userKey } from "../shared/names.ts";
import type { Person } from "./room_view.ts";
import type { TrustStore } from "./trust_store.ts";

/** What changed when a member was seen. */
export interface SeenPerson {
  person: Person;
  /** "changed": the key differs from the one first seen (or verified). */
  observation: "new" | "same" | "changed";
}

/** user key → Person, checked against the trust store. */
export class PeopleDirectory {
  #people = new Map<string, Person>();
  #trust: TrustStore;

  /** A directory that records what it sees in `trust`. */
  constructor(trust: TrustStore) {
    this.#trust = trust;
  }

  /** The person named `user`, if seen. */
  get(user: string): Person | undefined {
    return this.#people.get(userKey(user));
  }

  /** Import a member description (cached while its keys stay the same). */
  async see(member: MemberInfo): Promise<SeenPerson> {
    const key = userKey(member.user);
    const identity = decodePublicIdentity(member);
    const known = this.#people.get(key);
    if (known && sameKeys(known.identity, identity)) {
      known.online = member.online;
      return { person: known, observation: "same" };
    }
    const person: Person = {
      user: member.user,
      key,
      identity,
      verifyKey: await importVerifyKey(identity.idKey),
      encryptKey: await importEncryptKey(identity.encKey),
      fingerprint: await fingerprint(identity),
      online: member.online,
    };
    this.#people.set(key, person);
    const observation = await this.#trust.observe(key, person.fingerprint);
    return { person, observation };
  }
}
