/**
 * What a command handler works with: the engine (as a small interface),
 * identity, trust store and the event sink; what it resolves; and the few
 * helpers every handler uses to answer.
 * @module
 */
import type { Identity } from "../shared/crypto/identity.ts";
import { userKey } from "../shared/names.ts";
import type { ChatClient } from "./chat_client.ts";
import type { EventSink } from "./events.ts";
import type { TrustStore } from "./trust_store.ts";
import { roomLabel } from "./terminal_text.ts";

/** The part of the chat engine the runner uses (a ChatClient, or a small stand-in in tests). */
export type CommandClient = Pick<
  ChatClient,
  | "send"
  | "sendDirect"
  | "openDirect"
  | "switchTo"
  | "join"
  | "leave"
  | "listRooms"
  | "moderate"
  | "topic"
  | "room"
  | "currentRoom"
  | "people"
  | "lookup"
  | "loadOlder"
  | "transcript"
  | "rekeyRoomsWith"
>;

/** What the runner needs. */
export interface CommandContext {
  client: CommandClient;
  identity: Identity;
  trust: TrustStore;
  emit: EventSink;
}

/**
 * What became of an input line: "quit" (the user asked to leave),
 * "retain" (text was not sent, e.g. over the size limit: the terminal puts
 * the line back into the input; line mode goes on), or "continue".
 */
export type InputOutcome = "quit" | "continue" | "retain";

/** Emit a `system` answer; the handler is done. */
export function system(ctx: CommandContext, message: string): "continue" {
  ctx.emit({ type: "system", message });
  return "continue";
}

/** Emit an `error` answer; the handler is done. */
export function error(ctx: CommandContext, message: string): "continue" {
  ctx.emit({ type: "error", message });
  return "continue";
}

/** How `room` is named to this user: `#general`, `dm bob`. */
export function label(ctx: CommandContext, room: string): string {
  return roomLabel(room, userKey(ctx.identity.user));
}
