/**
 * Failed-login attack (issue 13, item 7): from one address, raw logins
 * guess at one registered name with other keys, then at many names with
 * forged signatures. Before, five failures locked the whole address out for
 * a minute, so a user behind the same NAT could not log in. Now failures
 * are throttled per address and per name with doubling delays
 * (`too_many_failures`), a real `chat join` from the same address with the
 * registered key logs in during the attack, and alice and bob chat on.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../shared/_test_assert.ts";
import { ClientProcess, ServerProcess } from "../_harness.ts";
import {
  loginFrame,
  RawConnection,
  type RawIdentity,
  rawIdentity,
  readHello,
} from "../_raw_client.ts";
import { assertHealthy, ChatProbe, RssSampler, scaled } from "./_probe.ts";

/** Guesses in each half of the attack… */
const GUESSES = scaled(40, 2_000);
/** …this many at a time. */
const PARALLEL = scaled(4, 16);
/** The server's default failures per address, and per name, before delays. */
const FREE_FAILURES = 5;

/** One raw login from 127.0.0.1; resolves the error code it got. */
async function guess(
  server: ServerProcess,
  who: RawIdentity,
  forge: boolean,
): Promise<string> {
  await using conn = await RawConnection.open(server);
  const hello = await readHello(conn);
  await conn.send(await loginFrame(who, hello, { forge }));
  const reply = await conn.waitFor(
    (f) => f.t === "error" || f.t === "welcome",
    "the login's answer",
  );
  return reply.t === "welcome" ? "welcome" : String(reply.code);
}

/** `count` guesses, `PARALLEL` at a time; the codes they got, counted. */
async function guesses(
  count: number,
  next: (i: number) => Promise<string>,
): Promise<Map<string, number>> {
  const codes = new Map<string, number>();
  let i = 0;
  const worker = async () => {
    while (i < count) {
      const code = await next(i++);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return codes;
}

Deno.test("failed logins from one address are slowed per name and address while the registered key from that address still logs in", async () => {
  await using server = await ServerProcess.start();
  const carolHome = join(server.dir, "carol-home");
  await using first = await ClientProcess.ready(server, "carol", {
    configHome: carolHome,
  });
  assertEquals(await first.end(), 0);
  await using probe = await ChatProbe.start(server);
  await using rss = await RssSampler.start(server.pid);
  const impostor = await rawIdentity("carol"); // carol's name, other keys
  const atOneName = await guesses(
    GUESSES,
    () => guess(server, impostor, false),
  );
  // carol, from the same address, while guesses at many names go on
  const [atManyNames, carol] = await Promise.all([
    guesses(
      GUESSES,
      async (i) => guess(server, await rawIdentity(`guess${i}`), true),
    ),
    ClientProcess.ready(server, "carol", { configHome: carolHome }),
  ]);
  await using _carol = carol;
  await carol.say("carol got in");
  const report = await probe.finish();
  const summary = await assertHealthy(server, rss, report);
  console.log(
    `login guesses: one name ${JSON.stringify([...atOneName])}, many names ${
      JSON.stringify([...atManyNames])
    }; ${summary}`,
  );
  assertEquals(atOneName.get("welcome"), undefined);
  assertEquals(atManyNames.get("welcome"), undefined);
  // past the free failures (a few more in flight at once, and one more per
  // doubling delay that runs out while the attack goes on), all wait
  const counted = (codes: Map<string, number>) =>
    [...codes].filter(([code]) => code !== "too_many_failures")
      .reduce((sum, [, n]) => sum + n, 0);
  const bound = FREE_FAILURES + PARALLEL + 8;
  assert(counted(atOneName) <= bound, `guesses at carol: ${[...atOneName]}`);
  assert(
    (atOneName.get("too_many_failures") ?? 0) >= GUESSES - bound,
    `guesses at carol: ${[...atOneName]}`,
  );
  assert(
    (atManyNames.get("too_many_failures") ?? 0) >= GUESSES - bound,
    `guesses at many names: ${[...atManyNames]}`,
  );
});
