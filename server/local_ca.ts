/**
 * A private certificate authority for servers that were not given a
 * certificate: the first run creates a CA and a server certificate signed by
 * it in a certs directory, later runs reuse them and re-issue only the server
 * certificate when it expires or a new server name is asked for. Clients
 * trust the CA (or check its fingerprint); the CA itself is never served.
 * Loading the certificate the server then serves is server_tls.ts's.
 *
 * Server-only: this file reads and writes key files and must stay out of
 * `shared/`.
 *
 * @module
 */
import { certificateFingerprint } from "../shared/pem.ts";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import {
  dedupeNames,
  nameKey,
  parseName,
  type SanName,
  sanNames,
} from "./cert_names.ts";
import { checkPrivateDir } from "./data_dirs.ts";
import {
  readIfPresent,
  refuseReadableKey,
  removeIfPresent,
  writePublic,
  writeSecret,
} from "./cert_files.ts";
import {
  EC_KEY,
  importPrivateKey,
  pemBlocks,
  privateKeyPem,
  SIGNING,
} from "./pem_keys.ts";

/** Paths and facts about the TLS material the server uses. */
export interface ServerTlsFiles {
  /** PEM: server leaf certificate followed by the CA certificate (chain). */
  certPath: string;
  /** PEM: server private key, PKCS#8. */
  keyPath: string;
  /** PEM of the local CA (null when the operator gave --cert/--key). */
  caPath: string | null;
  /** SHA-256 of the CA cert DER, uppercase hex pairs joined by ':'. */
  caFingerprint: string | null;
  /** True when this call generated new material. */
  created: boolean;
}

const _DAY_MS = 86_400_000;
const _CLOCK_SKEW_MS = 3_600_000;
const _LEAF_DAYS = 825;
const _CA_YEARS = 10;
const _ALWAYS_NAMES = ["localhost", "127.0.0.1"];

interface _LocalCa {
  cert: x509.X509Certificate;
  pem: string;
  /** Null when ca-key.pem was moved away; the existing leaf can still serve. */
  key: CryptoKey | null;
}

/**
 * Create (first run) or reuse a local CA + server certificate in certsDir.
 *
 * Files: `ca.pem`, `ca-key.pem` (0600), `server.pem` (leaf then CA) and
 * `server-key.pem` (0600). `localhost` and `127.0.0.1` are always in the
 * server certificate; names that are IP addresses become IP entries.
 *
 * @example
 * ```ts ignore
 * const tls = await ensureLocalCertificates("certs", ["chat.example.org"]);
 * console.log(`CA fingerprint: ${tls.caFingerprint}`);
 * ```
 */
export async function ensureLocalCertificates(
  certsDir: string,
  names: string[],
  options: { now?: Date } = {},
): Promise<ServerTlsFiles> {
  const now = options.now ?? new Date();
  const wanted = dedupeNames([..._ALWAYS_NAMES, ...names].map(parseName));
  const caPath = `${certsDir}/ca.pem`;
  const caKeyPath = `${certsDir}/ca-key.pem`;
  const certPath = `${certsDir}/server.pem`;
  const keyPath = `${certsDir}/server-key.pem`;

  await Deno.mkdir(certsDir, { recursive: true, mode: 0o700 });
  await checkPrivateDir(certsDir, "certificate directory");
  await refuseReadableKey(caKeyPath);
  await refuseReadableKey(keyPath);
  let created = false;
  let ca = await _readCa(caPath, caKeyPath, now);
  if (ca === null) {
    // No CA certificate: a leftover key or leaf belongs to a CA nobody has.
    for (const path of [caKeyPath, certPath, keyPath]) {
      await removeIfPresent(path);
    }
    ca = await _createCa(caPath, caKeyPath, now);
    created = true;
  }
  if (!await _leafReusable(certPath, keyPath, ca.cert, wanted, now)) {
    if (ca.key === null) {
      throw new Error(
        `cannot issue a new server certificate: ${caKeyPath} is missing. ` +
          `Put the CA key back (chmod 600), or delete ${caPath} to create a ` +
          `new local CA (clients must then trust the new CA).`,
      );
    }
    await removeIfPresent(certPath);
    await removeIfPresent(keyPath);
    await _issueLeaf(certPath, keyPath, { ...ca, key: ca.key }, wanted, now);
    created = true;
  }
  return {
    certPath,
    keyPath,
    caPath,
    caFingerprint: await certificateFingerprint(ca.pem),
    created,
  };
}

/** SHA-256 fingerprint of a PEM certificate (see shared/pem.ts). */
export { certificateFingerprint };

async function _readCa(
  caPath: string,
  caKeyPath: string,
  now: Date,
): Promise<_LocalCa | null> {
  const pem = await readIfPresent(caPath);
  if (pem === null) return null;
  const startOver = `delete ${caPath} and ${caKeyPath} to create a new ` +
    `local CA (clients must then trust the new CA)`;
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(pem);
  } catch (cause) {
    const message = `${caPath} cannot be parsed; restore it, or ${startOver}.`;
    throw new Error(message, { cause });
  }
  if (cert.notAfter <= now) {
    throw new Error(
      `the local CA in ${caPath} expired on ${cert.notAfter.toISOString()}; ${startOver}.`,
    );
  }
  const keyPem = await readIfPresent(caKeyPath);
  if (keyPem === null) return { cert, pem, key: null };
  let key: CryptoKey;
  try {
    key = await importPrivateKey(keyPem, false);
  } catch (cause) {
    const message =
      `${caKeyPath} cannot be parsed; restore it, or ${startOver}.`;
    throw new Error(message, { cause });
  }
  const probe = new TextEncoder().encode("chat local CA key check");
  const signature = await crypto.subtle.sign(SIGNING, key, probe);
  const publicKey = await cert.publicKey.export();
  if (!await crypto.subtle.verify(SIGNING, publicKey, signature, probe)) {
    throw new Error(
      `${caKeyPath} does not match ${caPath}; restore the matching pair, or ${startOver}.`,
    );
  }
  return { cert, pem, key };
}

async function _createCa(
  caPath: string,
  caKeyPath: string,
  now: Date,
): Promise<_LocalCa> {
  const keys = await crypto.subtle.generateKey(EC_KEY, true, [
    "sign",
    "verify",
  ]);
  const notBefore = new Date(now.getTime() - _CLOCK_SKEW_MS);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + _CA_YEARS);
  const tag = _hex(crypto.getRandomValues(new Uint8Array(4)));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=chat local CA ${tag}`,
    keys,
    serialNumber: _randomSerial(),
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pem = `${cert.toString("pem")}\n`;
  await writeSecret(caKeyPath, await privateKeyPem(keys.privateKey));
  await writePublic(caPath, pem);
  return { cert, pem, key: keys.privateKey };
}

async function _issueLeaf(
  certPath: string,
  keyPath: string,
  ca: _LocalCa & { key: CryptoKey },
  names: SanName[],
  now: Date,
): Promise<void> {
  const keys = await crypto.subtle.generateKey(EC_KEY, true, [
    "sign",
    "verify",
  ]);
  const notBefore = new Date(now.getTime() - _CLOCK_SKEW_MS);
  const notAfter = new Date(
    Math.min(
      notBefore.getTime() + _LEAF_DAYS * _DAY_MS,
      ca.cert.notAfter.getTime(),
    ),
  );
  const leaf = await x509.X509CertificateGenerator.create({
    subject: "CN=chat server",
    issuer: ca.cert.subject,
    serialNumber: _randomSerial(),
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    ],
  });
  // Key first: a crash leaves a key without a certificate, never the reverse.
  await writeSecret(keyPath, await privateKeyPem(keys.privateKey));
  await writePublic(certPath, `${leaf.toString("pem")}\n${ca.pem}`);
}

async function _leafReusable(
  certPath: string,
  keyPath: string,
  caCert: x509.X509Certificate,
  wanted: SanName[],
  now: Date,
): Promise<boolean> {
  const certPem = await readIfPresent(certPath);
  const keyPem = await readIfPresent(keyPath);
  if (certPem === null || keyPem === null) return false;
  try {
    const der = pemBlocks(certPem, "CERTIFICATE")[0];
    if (der === undefined) return false;
    const leaf = new x509.X509Certificate(der);
    if (leaf.notAfter <= now || leaf.notBefore > now) return false;
    const signedByCa = await leaf.verify({
      publicKey: caCert.publicKey,
      signatureOnly: true,
    });
    if (!signedByCa) return false;
    const have = new Set(sanNames(leaf).map(nameKey));
    if (!wanted.every((n) => have.has(nameKey(n)))) return false;
    const key = await crypto.subtle.exportKey(
      "jwk",
      await importPrivateKey(keyPem, true),
    );
    const pub = await crypto.subtle.exportKey(
      "jwk",
      await leaf.publicKey.export(),
    );
    return key.x === pub.x && key.y === pub.y;
  } catch {
    return false; // unreadable leaf material is replaced, never served
  }
}

/** 16 random bytes, first byte in 0x40..0x7f: positive and exactly 16 bytes in DER. */
function _randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return _hex(bytes);
}

function _hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
