import { fromBase64Url } from "./bytes.ts";
import { generateIdentity } from "./crypto/identity.ts";
import { verifyLogin } from "./crypto/login.ts";
import { parseClientFrame } from "./client_frames.ts";
import { loginFrame } from "./login_frame.ts";
import { assert, assertEquals } from "./_test_assert.ts";

const alice = await generateIdentity("Alice");
const hello = {
  session: crypto.randomUUID(),
  nonce: "q83vEjRWeJCrze8SNFZ4kA",
};

Deno.test("loginFrame is a login frame the server's parser accepts, signed over what the server checks", async () => {
  const frame = await loginFrame(alice, "Chat.Example.org", hello, undefined);
  assertEquals(parseClientFrame({ ...frame }), frame);
  assert(!("invite" in frame));
  const challenge = {
    server: "chat.example.org",
    session: hello.session,
    nonce: fromBase64Url(hello.nonce),
    uid: alice.uid,
    user: "alice",
    idKey: alice.idKey,
    encKey: alice.encKey,
  };
  const sig = fromBase64Url(frame.sig);
  assert(await verifyLogin(alice.verifyKey, sig, challenge));
  const otherSession = { ...challenge, session: crypto.randomUUID() };
  assert(!await verifyLogin(alice.verifyKey, sig, otherSession));
});

Deno.test("loginFrame carries an invite secret when there is one", async () => {
  const frame = await loginFrame(alice, "chat.example.org", hello, "c2VjcmV0");
  assertEquals(frame.invite, "c2VjcmV0");
  assertEquals(parseClientFrame({ ...frame }), frame);
});
