import { asServerFrame, serverFrameProblem } from "./server_frames.ts";
import * as shared from "../shared/server_frames.ts";
import { assertEquals } from "../shared/_test_assert.ts";

// The checks themselves are tested in shared/server_frames_test.ts.
Deno.test("client/server_frames.ts exports the shared check of server frames under its old names", () => {
  assertEquals(serverFrameProblem, shared.serverFrameProblem);
  assertEquals(asServerFrame, shared.asServerFrame);
  assertEquals(serverFrameProblem({ t: "left", room: "general" }), null);
});
