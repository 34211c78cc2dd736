/**
 * Keeping a session connected: run the ChatClient over a connection, and
 * when it drops, reconnect with exponential backoff and jitter until the
 * session is closed or the server refuses us.
 * @module
 */
import type { ByteStream } from "../shared/framed_connection.ts";
import { Backoff } from "./backoff.ts";
import type { ChatClient } from "./chat_client.ts";
import type { EventSink } from "./events.ts";

/** How the session ended: the user closed it, or the server refused the login. */
export type SessionEnd = "closed" | "refused";

/**
 * Run `client` over `first`, then over new connections from `connect`
 * whenever one drops. Resolves when the client is closed or refused.
 */
export async function keepConnected(
  client: ChatClient,
  first: ByteStream,
  connect: () => Promise<ByteStream>,
  emit: EventSink,
  backoff = new Backoff(),
): Promise<SessionEnd> {
  let stream: ByteStream | null = first;
  while (true) {
    if (stream) {
      const outcome = await client.runConnection(stream);
      stream = null;
      if (outcome === "closed") return "closed";
      if (outcome === "refused") return "refused";
      if (client.closing) return "closed";
    }
    const delay = backoff.next();
    emit({
      type: "system",
      message: `disconnected from the server; reconnecting in ${
        (delay / 1000).toFixed(1)
      } s`,
    });
    if (await sleepUnlessClosed(client, delay)) return "closed";
    try {
      stream = await connect();
      if (client.closing) {
        // closed while connecting: nobody wants this connection any more
        stream.close();
        return "closed";
      }
      backoff.reset();
      emit({ type: "system", message: "reconnected" });
    } catch (error) {
      emit({
        type: "error",
        message: `reconnect failed: ${(error as Error).message}`,
      });
    }
  }
}

/** Wait `ms` unless the client is closed first; true if it was closed. */
async function sleepUnlessClosed(
  client: ChatClient,
  ms: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const slept = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([slept, client.closed.then(() => true)]);
  } finally {
    clearTimeout(timer);
  }
}
