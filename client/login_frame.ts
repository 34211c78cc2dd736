/**
 * The login answer to a server's hello: our public keys and a signature
 * over the server's name, its session and nonce, and those keys.
 * @module
 */
import { fromBase64Url, toBase64Url } from "../shared/bytes.ts";
import type { Identity } from "../shared/crypto/identity.ts";
import { signLogin } from "../shared/crypto/login.ts";
import type { ClientFrame, HelloFrame } from "../shared/protocol.ts";

/** The signed `login` frame for `hello` (with an invite secret, if given). */
export async function loginFrame(
  identity: Identity,
  serverName: string,
  hello: Pick<HelloFrame, "session" | "nonce">,
  invite: string | undefined,
): Promise<ClientFrame> {
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
