/**
 * Everything the chat engine reports to a user interface. The JSON line
 * mode prints these objects as they are (see docs/protocol.md, JSON mode).
 * @module
 */
import type { MessageKind } from "../shared/crypto/envelope.ts";

/** Joined the first room: the client is ready for input. */
export interface ReadyEvent {
  type: "ready";
  user: string;
  fingerprint: string;
  room: string;
  /** The server logged in to, as host:port. */
  server: string;
}
/** A decrypted message. `own` marks your own, shown once the server acknowledged it. */
export interface MessageEvent {
  type: "message";
  room: string;
  from: string;
  text: string;
  ts: number;
  seq: number;
  history: boolean;
  own: boolean;
  /** "me" for /me actions, "topic" when the sender set the room's topic. */
  kind: MessageKind;
}
/**
 * A block of stored messages follows (`count` message events with
 * `history: true`, oldest first): the room's recent messages when it is
 * joined ("join"), or an earlier page asked for with /load ("load").
 * `unreadable` counts the room's messages older than the oldest one this
 * client can read, when no readable message is left before them: messages
 * sent before you joined (or that nobody shared a key with you for).
 */
export interface HistoryEvent {
  type: "history";
  room: string;
  reason: "join" | "load";
  count: number;
  unreadable: number;
}
/** Someone joined or left a room (membership). */
export interface MembershipEvent {
  type: "join" | "leave";
  room: string;
  user: string;
}
/**
 * A member connected or disconnected: one event per person per change,
 * however many rooms you share. `room` is the first of `rooms`.
 */
export interface PresenceEvent {
  type: "presence";
  room: string;
  rooms: string[];
  user: string;
  online: boolean;
}
/** Something failed; `message` says what and what to do. */
export interface ErrorEvent {
  type: "error";
  message: string;
}
/** Information for the user (command output, notices). `warning` marks key-change alarms. */
export interface SystemEvent {
  type: "system";
  message: string;
  warning?: boolean;
}
/** How far you trust a member's key. */
export type TrustLevel = "verified" | "unverified" | "changed";
/** One room in the server's room list. */
export interface RoomListing {
  room: string;
  members: number;
  /** You are a member. */
  joined: boolean;
  /** Plain text goes here. */
  current: boolean;
}
/** The answer to /rooms (or /list). */
export interface RoomsEvent {
  type: "rooms";
  rooms: RoomListing[];
}
/** One member as /who (or /names) lists them. */
export interface WhoMember {
  user: string;
  /** The short fingerprint (first bytes, hex). */
  fingerprint: string;
  online: boolean;
  trust: TrustLevel;
  /** This is you. */
  you: boolean;
}
/** The answer to /who (or /names). */
export interface WhoEvent {
  type: "who";
  room: string;
  members: WhoMember[];
}
/** The answer to /whois. */
export interface WhoisEvent {
  type: "whois";
  user: string;
  /** The full formatted fingerprint. */
  fingerprint: string;
  /** 60 digits, grouped in fives. */
  safetyNumber: string;
  trust: TrustLevel;
  you: boolean;
}
/** /clear: the terminal clears its screen; line and JSON mode print nothing. */
export interface ClearEvent {
  type: "clear";
}

/** Any event the engine emits. */
export type ChatEvent =
  | ReadyEvent
  | MessageEvent
  | HistoryEvent
  | MembershipEvent
  | PresenceEvent
  | ErrorEvent
  | SystemEvent
  | RoomsEvent
  | WhoEvent
  | WhoisEvent
  | ClearEvent;

/** Where events go. */
export type EventSink = (event: ChatEvent) => void;
