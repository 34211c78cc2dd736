import { assertEquals } from "../shared/_test_assert.ts";
import { errorText } from "./server_errors.ts";

Deno.test("an error the client knows what to do about gets what to type after the server's words", () => {
  assertEquals(
    errorText({ code: "not_member", message: "you are not in dev" }),
    "you are not in dev; /join it first",
  );
  assertEquals(
    errorText({ code: "not_operator", message: "only operators can ban" }),
    "only operators can ban; operators are named with chat serve --op FINGERPRINT (chat id shows one)",
  );
});

Deno.test("any other error is shown in the server's words alone", () => {
  assertEquals(
    errorText({ code: "something_new", message: "it went wrong" }),
    "it went wrong",
  );
});

Deno.test("a rate limit or a refused DM says what to do next", () => {
  assertEquals(
    errorText({
      code: "rate_limited",
      message: "too many lookup frames; try again in 2 s",
    }),
    "too many lookup frames; try again in 2 s; wait that long, then do it again",
  );
  assertEquals(
    errorText({
      code: "dm_refused",
      message:
        "mallory shares no room with you and has not allowed DMs from you",
    }),
    "mallory shares no room with you and has not allowed DMs from you; talk in a shared room first, or ask them to type /allow-dm followed by your name",
  );
});
