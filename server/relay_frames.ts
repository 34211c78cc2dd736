/**
 * The frames the relay sends about sender keys and messages, and the id
 * that names one sender key in a session's set of keys already sent.
 * @module
 */
import { relayedMessageFrame } from "../shared/message_frame.ts";
import { encodeServerFrame, type ServerFrame } from "../shared/protocol.ts";
import type { StoredMessage } from "./store/history_store.ts";

/** Names one sender key in a session's set of keys already sent. */
export function keyId(room: string, sender: string, epoch: number): string {
  return `${room}\u0000${sender}\u0000${epoch}`;
}

/** The `key` frame that gives one recipient its wrap of a sender key. */
export function keyFrame(
  room: string,
  from: string,
  epoch: number,
  roster: number,
  wrap: { wrap: string; sig: string },
): ServerFrame {
  return {
    t: "key",
    room,
    from,
    epoch,
    roster,
    wrap: wrap.wrap,
    sig: wrap.sig,
  };
}

/** One message frame, encoded once for every recipient. */
export function messageFrame(
  m: StoredMessage,
  from: string,
  history: boolean,
): Uint8Array {
  return encodeServerFrame(relayedMessageFrame(m, from, history));
}
