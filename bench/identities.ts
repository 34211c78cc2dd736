/**
 * Simulated users' identities, generated once and cached under
 * `.cache/bench/` (git-ignored). Every user has its own name, uid and
 * Ed25519 identity key; all share ONE RSA-OAEP-3072 key pair, because
 * generating 10,000 of those would take about two hours (~0.7 s each) and
 * the server and clients pay exactly the same per-member cost for any
 * well-formed key (bench/README.md explains why this measures the same).
 * @module
 */
import { fromBase64Url, toBase64Url } from "../shared/bytes.ts";
import {
  exportIdentity,
  generateIdentity,
  importEncryptKey,
} from "../shared/crypto/identity.ts";
import {
  exportPrivateKey,
  generateSigningKeyPair,
  importDecryptKey,
  importSigningKey,
  rawPublicKey,
} from "../shared/crypto/private_keys.ts";

/** Where the cache lives (repo root `.cache/bench/`). */
export const CACHE_DIR = new URL("../.cache/bench/", import.meta.url).pathname;
const CACHE_FILE = `${CACHE_DIR}identities-v1.json`;

/** The cache file's shape. */
interface CachedIdentities {
  format: "chat-bench-identities-v1";
  rsa: { spki: string; pkcs8: string };
  users: { user: string; uid: string; idPublic: string; idPrivate: string }[];
}

/** A simulated user, ready to log in and sign. */
export interface BenchIdentity {
  user: string;
  uid: string;
  idKey: Uint8Array<ArrayBuffer>;
  encKey: Uint8Array<ArrayBuffer>;
  signingKey: CryptoKey;
}

/** The shared RSA-OAEP pair: public SPKI and both CryptoKeys. */
export interface SharedRsa {
  spki: Uint8Array<ArrayBuffer>;
  encryptKey: CryptoKey;
  decryptKey: CryptoKey;
}

/** The name of simulated user `index` (ASCII, unique skeleton: no 0/1/5/i in the prefix). */
export function benchUserName(index: number): string {
  return `bench${index}`;
}

async function readCache(): Promise<CachedIdentities | null> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(CACHE_FILE));
    return parsed.format === "chat-bench-identities-v1" ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Make sure the cache holds at least `count` users (generating only the
 * missing ones, and the RSA pair on first use). Returns how long it took.
 */
export async function ensureIdentities(count: number): Promise<number> {
  const started = performance.now();
  let cache = await readCache();
  if (cache && cache.users.length >= count) return 0;
  if (!cache) {
    const rsa = await exportIdentity(await generateIdentity("shared-rsa"));
    cache = {
      format: "chat-bench-identities-v1",
      rsa: { spki: rsa.encPublic, pkcs8: rsa.encPrivate },
      users: [],
    };
  }
  for (let i = cache.users.length; i < count; i++) {
    const pair = await generateSigningKeyPair();
    cache.users.push({
      user: benchUserName(i),
      uid: crypto.randomUUID(),
      idPublic: toBase64Url(await rawPublicKey(pair.publicKey)),
      idPrivate: toBase64Url(await exportPrivateKey(pair.privateKey)),
    });
  }
  await Deno.mkdir(CACHE_DIR, { recursive: true, mode: 0o700 });
  const tmp = `${CACHE_FILE}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(cache), { mode: 0o600 });
  await Deno.rename(tmp, CACHE_FILE);
  return performance.now() - started;
}

/** Load the shared RSA pair and the identities of users `indices` from the cache. */
export async function loadIdentities(
  indices: number[],
): Promise<{ rsa: SharedRsa; users: Map<number, BenchIdentity> }> {
  const cache = await readCache();
  if (!cache) throw new Error(`no identity cache at ${CACHE_FILE}`);
  const spki = fromBase64Url(cache.rsa.spki);
  const rsa: SharedRsa = {
    spki,
    encryptKey: await importEncryptKey(spki),
    decryptKey: await importDecryptKey(fromBase64Url(cache.rsa.pkcs8)),
  };
  const users = new Map<number, BenchIdentity>();
  for (const index of indices) {
    const stored = cache.users[index];
    if (!stored) throw new Error(`identity ${index} is not in the cache`);
    users.set(index, {
      user: stored.user,
      uid: stored.uid,
      idKey: fromBase64Url(stored.idPublic),
      encKey: spki,
      signingKey: await importSigningKey(fromBase64Url(stored.idPrivate)),
    });
  }
  return { rsa, users };
}
