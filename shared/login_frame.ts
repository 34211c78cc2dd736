/**
 * The `login` frame that answers a server's `hello`: the user's name, id
 * and public keys, and an Ed25519 signature (crypto/login.ts) over the
 * server's name, its session and nonce, and those keys. One place for the
 * client and the bench.
 * @module
 */
import { fromBase64Url, toBase64Url } from "./bytes.ts";
import type { Identity } from "./crypto/identity.ts";
import { signLogin } from "./crypto/login.ts";
import type { HelloFrame, LoginFrame } from "./frame_types.ts";

/** What logging in needs of an identity: its public half and the key that signs. */
export type LoginIdentity = Pick<
  Identity,
  "user" | "uid" | "idKey" | "encKey" | "signingKey"
>;

/**
 * The signed `login` frame for `hello`, bound to `serverName` (the name the
 * client connected to), with the invite secret when joining by invite.
 * @example
 * ```ts
 * import { loginFrame } from "./login_frame.ts";
 * import { generateIdentity } from "./crypto/identity.ts";
 * const alice = await generateIdentity("alice");
 * const hello = { session: crypto.randomUUID(), nonce: "AAAAAAAAAAAAAAAAAAAAAA" };
 * const frame = await loginFrame(alice, "chat.example.org", hello, undefined);
 * console.assert(frame.t === "login" && !("invite" in frame));
 * ```
 */
export async function loginFrame(
  identity: LoginIdentity,
  serverName: string,
  hello: Pick<HelloFrame, "session" | "nonce">,
  invite: string | undefined,
): Promise<LoginFrame> {
  const sig = await signLogin(identity.signingKey, {
    server: serverName,
    session: hello.session,
    nonce: fromBase64Url(hello.nonce),
    uid: identity.uid,
    user: identity.user,
    idKey: identity.idKey,
    encKey: identity.encKey,
  });
  return {
    t: "login",
    user: identity.user,
    uid: identity.uid,
    server: serverName,
    idKey: toBase64Url(identity.idKey),
    encKey: toBase64Url(identity.encKey),
    sig: toBase64Url(sig),
    ...(invite ? { invite } : {}),
  };
}
