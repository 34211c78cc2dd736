/**
 * keepConnected's loop with a stand-in for the ChatClient (the loop only
 * sees runConnection, closing and closed): a session that ends while a
 * reconnect is still connecting must end, not run that connection.
 */
import { assertEquals } from "../shared/_test_assert.ts";
import type { ByteStream } from "../shared/framed_connection.ts";
import { Backoff } from "./backoff.ts";
import type { ChatClient } from "./chat_client.ts";
import type { ChatEvent } from "./events.ts";
import { keepConnected } from "./reconnect.ts";

class Stream implements ByteStream {
  closed = false;
  read(): Promise<number | null> {
    return Promise.resolve(null);
  }
  write(bytes: Uint8Array): Promise<number> {
    return Promise.resolve(bytes.length);
  }
  close(): void {
    this.closed = true;
  }
}

Deno.test("a session closed while a reconnect is connecting ends, and the late connection is closed unused", async () => {
  const closed = Promise.withResolvers<void>();
  const ran: Stream[] = [];
  const client = {
    closing: false,
    closed: closed.promise,
    runConnection(stream: Stream): Promise<string> {
      ran.push(stream);
      // the first connection drops; any later one would serve forever
      return ran.length === 1 ? Promise.resolve("lost") : new Promise(() => {});
    },
  };
  const connecting = Promise.withResolvers<ByteStream>();
  const connectCalled = Promise.withResolvers<void>();
  const events: ChatEvent[] = [];
  const session = keepConnected(
    client as unknown as ChatClient,
    new Stream(),
    () => {
      connectCalled.resolve();
      return connecting.promise;
    },
    (e) => events.push(e),
    new Backoff({ initialMs: 1, maxMs: 1 }),
  );
  await connectCalled.promise; // a reconnect is under way
  client.closing = true; // the user ends the session (end of input)
  closed.resolve();
  const late = new Stream();
  connecting.resolve(late);
  assertEquals(await session, "closed");
  assertEquals(late.closed, true, "the late connection is closed");
  assertEquals(ran.length, 1, "the late connection was never run");
});
