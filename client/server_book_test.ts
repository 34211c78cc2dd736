/** ServerBook.choose: the saved server for the user who joins without --server. */
import { assert, assertEquals } from "../shared/_test_assert.ts";
import { ServerBook } from "./server_book.ts";

async function withBook(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-book-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Remember joins in order, each a millisecond or more after the last. */
async function joins(book: ServerBook, list: [string, string][]) {
  for (const [address, user] of list) {
    const before = Date.now();
    while (Date.now() === before) await Promise.resolve();
    await book.remember(address, null, user);
  }
}

Deno.test("the server a user joined last wins over the one joined last by anyone, and it is no guess", async () => {
  await withBook(async (dir) => {
    const book = await ServerBook.open(dir);
    await joins(book, [["a:1", "Dave"], ["b:2", "erin"]]);
    const reopened = await ServerBook.open(dir);
    const choice = reopened.choose("dave");
    assertEquals(choice?.server.address, "a:1");
    assertEquals(choice?.ambiguous, false);
  });
});

Deno.test("a user on no saved server gets the one joined last, marked as a guess when there were several", async () => {
  await withBook(async (dir) => {
    const book = await ServerBook.open(dir);
    assertEquals(book.choose("frank"), undefined);
    await joins(book, [["a:1", "dave"]]);
    assertEquals(book.choose("frank")?.ambiguous, false, "only one server");
    await joins(book, [["b:2", "erin"]]);
    const choice = book.choose("frank")!;
    assertEquals(choice.server.address, "b:2");
    assert(choice.ambiguous);
    assert(choice.reason.startsWith("last used "), choice.reason);
  });
});

Deno.test("a book written before lastByUser falls back to the servers that list the user", async () => {
  await withBook(async (dir) => {
    const old = {
      last: "b:2",
      servers: [
        {
          address: "a:1",
          caPem: null,
          lastUsed: "2026-01-01T00:00:00.000Z",
          users: ["dave"],
        },
        {
          address: "b:2",
          caPem: null,
          lastUsed: "2026-02-01T00:00:00.000Z",
          users: ["erin"],
        },
      ],
    };
    await Deno.writeTextFile(`${dir}/servers.json`, JSON.stringify(old), {
      mode: 0o600,
    });
    const book = await ServerBook.open(dir);
    assertEquals(book.choose("dave")?.server.address, "a:1");
    assertEquals(book.choose("dave")?.ambiguous, false);
  });
});
