/**
 * Replay and duplicate detection on the receiving side. A message is named
 * by (room, sender, epoch, counter); the server gives each stored message a
 * sequence number. Seeing the same name again under the same sequence number
 * is a harmless re-delivery (history paging); under a different one, or a
 * live counter that does not increase, it is a replay.
 * @module
 */
import { userKey } from "../names.ts";

/** Outcome of checking a received message. */
export type ReplayVerdict = "new" | "redelivery" | "replay";

/** Tracks which messages a client has accepted. */
export class ReplayGuard {
  #seqByName = new Map<string, number>();
  #highestLive = new Map<string, number>();

  /**
   * Check a live (not history) message: its counter must be strictly greater
   * than any live counter seen for that sender and epoch, and its name unseen.
   */
  checkLive(
    room: string,
    sender: string,
    epoch: number,
    counter: number,
    seq: number,
  ): ReplayVerdict {
    const stream = `${room}\u0000${userKey(sender)}\u0000${epoch}`;
    const verdict = this.checkHistory(room, sender, epoch, counter, seq);
    if (verdict !== "new") return verdict;
    const highest = this.#highestLive.get(stream);
    if (highest !== undefined && counter <= highest) {
      this.#seqByName.delete(this.#name(room, sender, epoch, counter));
      return "replay";
    }
    this.#highestLive.set(stream, counter);
    return "new";
  }

  /** Check a history message: unseen is new; seen with the same seq is a re-delivery. */
  checkHistory(
    room: string,
    sender: string,
    epoch: number,
    counter: number,
    seq: number,
  ): ReplayVerdict {
    const name = this.#name(room, sender, epoch, counter);
    const seen = this.#seqByName.get(name);
    if (seen === undefined) {
      this.#seqByName.set(name, seq);
      return "new";
    }
    return seen === seq ? "redelivery" : "replay";
  }

  /**
   * Forget what was accepted in `room` (the client left it and will load
   * its history afresh if it joins again).
   */
  forgetRoom(room: string): void {
    const prefix = `${room}\u0000`;
    for (const map of [this.#seqByName, this.#highestLive]) {
      for (const name of map.keys()) {
        if (name.startsWith(prefix)) map.delete(name);
      }
    }
  }

  #name(room: string, sender: string, epoch: number, counter: number): string {
    return `${room}\u0000${userKey(sender)}\u0000${epoch}\u0000${counter}`;
  }
}
