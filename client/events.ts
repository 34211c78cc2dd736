/**
 * Everything the chat engine reports to a user interface. The JSON line
 * mode prints these objects as they are (see docs/protocol.md, JSON mode).
 * @module
 */

/** Joined the first room: the client is ready for input. */
export interface ReadyEvent {
  type: "ready";
  user: string;
  fingerprint: string;
  room: string;
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
  /** "me" for /me actions. */
  kind: "text" | "me";
}
/** Someone joined or left a room (membership). */
export interface MembershipEvent {
  type: "join" | "leave";
  room: string;
  user: string;
}
/** A member connected or disconnected. */
export interface PresenceEvent {
  type: "presence";
  room: string;
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

/** Any event the engine emits. */
export type ChatEvent =
  | ReadyEvent
  | MessageEvent
  | MembershipEvent
  | PresenceEvent
  | ErrorEvent
  | SystemEvent;

/** Where events go. */
export type EventSink = (event: ChatEvent) => void;
