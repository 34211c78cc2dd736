/**
 * What the parts of the chat engine share: who we are, the rooms as we see
 * them, the people we have met, the transcript, the link to the server, the
 * requests awaiting answers, and where to report.
 * @module
 */
import type { Identity } from "../shared/crypto/identity.ts";
import { userKey } from "../shared/names.ts";
import type { Announcer } from "./announcer.ts";
import type { PeopleDirectory } from "./people.ts";
import { PendingRequests } from "./pending_requests.ts";
import type { RoomView } from "./room_view.ts";
import { ServerLink } from "./server_link.ts";
import type { Transcript } from "./transcript.ts";
import type { TrustStore } from "./trust_store.ts";

/** The engine's shared state; each part keeps only its own beyond this. */
export interface EngineContext {
  /** Our user key (the name folded). */
  readonly me: string;
  readonly identity: Identity;
  readonly trust: TrustStore;
  readonly people: PeopleDirectory;
  readonly transcript: Transcript;
  /** room name → our view of it, for the rooms we are in. */
  readonly rooms: Map<string, RoomView>;
  readonly link: ServerLink;
  readonly pending: PendingRequests;
  readonly say: Announcer;
}

/** The shared state of a new session for `identity`, reporting to `say`. */
export function createEngineContext(
  identity: Identity,
  trust: TrustStore,
  parts: {
    people: PeopleDirectory;
    transcript: Transcript;
    say: Announcer;
  },
): EngineContext {
  const pending = new PendingRequests();
  const link = new ServerLink(
    pending,
    () =>
      parts.say.error("not connected; try again when the connection is back"),
  );
  return {
    me: userKey(identity.user),
    identity,
    trust,
    ...parts,
    rooms: new Map(),
    link,
    pending,
  };
}
