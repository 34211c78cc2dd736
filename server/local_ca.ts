/**
 * A private certificate authority for servers that were not given a
 * certificate: the first run creates a CA and a server certificate signed by
 * it in a certs directory, later runs reuse them and re-issue only the server
 * certificate when it expires or a new server name is asked for. Clients
 * trust the CA (or check its fingerprint); the CA itself is never served.
 *
 * Server-only: this file reads and writes key files and must stay out of
 * `shared/`.
 *
 * @module
 */
import { certificateFingerprint } from "../shared/pem.ts";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

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

const _EC_KEY: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const _SIGNING: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const _DAY_MS = 86_400_000;
const _CLOCK_SKEW_MS = 3_600_000;
const _LEAF_DAYS = 825;
const _CA_YEARS = 10;
const _ALWAYS_NAMES = ["localhost", "127.0.0.1"];
const _DNS_NAME =
  /^(\*\.)?[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const _OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const _IPV4 = new RegExp(`^(${_OCTET}\\.){3}${_OCTET}$`);

interface _SanName {
  type: "dns" | "ip";
  value: string;
}

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
  const wanted = _dedupe([..._ALWAYS_NAMES, ...names].map(_parseName));
  const caPath = `${certsDir}/ca.pem`;
  const caKeyPath = `${certsDir}/ca-key.pem`;
  const certPath = `${certsDir}/server.pem`;
  const keyPath = `${certsDir}/server-key.pem`;

  await Deno.mkdir(certsDir, { recursive: true, mode: 0o700 });
  await _refuseReadableKey(caKeyPath);
  let created = false;
  let ca = await _readCa(caPath, caKeyPath, now);
  if (ca === null) {
    // No CA certificate: a leftover key or leaf belongs to a CA nobody has.
    for (const path of [caKeyPath, certPath, keyPath]) {
      await _removeIfPresent(path);
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
    await _removeIfPresent(certPath);
    await _removeIfPresent(keyPath);
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

/**
 * Read cert+key PEM files, returning what Deno.listenTls needs plus the
 * DNS/IP names in the leaf's SAN. Throws a clear Error if files are missing
 * or unparsable, or if the first certificate is a CA (rustls clients refuse
 * a CA certificate as a server certificate).
 */
export async function loadServerTls(
  certPath: string,
  keyPath: string,
): Promise<{ cert: string; key: string; names: string[] }> {
  const cert = await _readRequired(certPath, "certificate");
  const key = await _readRequired(keyPath, "private key");
  const der = _pemBlocks(cert, "CERTIFICATE")[0];
  if (der === undefined) {
    throw new Error(
      `${certPath} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); ` +
        `give a PEM certificate file, server certificate first.`,
    );
  }
  let leaf: x509.X509Certificate;
  try {
    leaf = new x509.X509Certificate(der);
  } catch (cause) {
    throw new Error(
      `${certPath}: the first certificate cannot be parsed; replace the file ` +
        `with a valid PEM certificate.`,
      { cause },
    );
  }
  const keyTypes = x509.PemConverter.decodeWithHeaders(key).map((b) => b.type);
  if (keyTypes.includes("ENCRYPTED PRIVATE KEY")) {
    throw new Error(
      `${keyPath} is encrypted; decrypt it first, e.g. ` +
        `\`openssl pkey -in ${keyPath} -out server-key.pem\`, and chmod 600 it.`,
    );
  }
  if (!keyTypes.some((t) => /^(|RSA |EC )PRIVATE KEY$/.test(t))) {
    throw new Error(
      `${keyPath} holds no PEM private key ("-----BEGIN PRIVATE KEY-----"); ` +
        `give the key file that belongs to ${certPath}.`,
    );
  }
  if (leaf.getExtension(x509.BasicConstraintsExtension)?.ca === true) {
    throw new Error(
      `${certPath} starts with a CA certificate (CA:TRUE), which TLS clients ` +
        `refuse as a server certificate; put the server certificate first.`,
    );
  }
  return { cert, key, names: _sanNames(leaf).map((n) => n.value) };
}

/** SHA-256 fingerprint of a PEM certificate (see shared/pem.ts). */
export { certificateFingerprint };

async function _readCa(
  caPath: string,
  caKeyPath: string,
  now: Date,
): Promise<_LocalCa | null> {
  const pem = await _readIfPresent(caPath);
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
  const keyPem = await _readIfPresent(caKeyPath);
  if (keyPem === null) return { cert, pem, key: null };
  let key: CryptoKey;
  try {
    key = await _importPrivateKey(keyPem, false);
  } catch (cause) {
    const message =
      `${caKeyPath} cannot be parsed; restore it, or ${startOver}.`;
    throw new Error(message, { cause });
  }
  const probe = new TextEncoder().encode("chat local CA key check");
  const signature = await crypto.subtle.sign(_SIGNING, key, probe);
  const publicKey = await cert.publicKey.export();
  if (!await crypto.subtle.verify(_SIGNING, publicKey, signature, probe)) {
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
  const keys = await crypto.subtle.generateKey(_EC_KEY, true, [
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
    signingAlgorithm: _SIGNING,
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
  await _writeSecret(caKeyPath, await _privateKeyPem(keys.privateKey));
  await _writePublic(caPath, pem);
  return { cert, pem, key: keys.privateKey };
}

async function _issueLeaf(
  certPath: string,
  keyPath: string,
  ca: _LocalCa & { key: CryptoKey },
  names: _SanName[],
  now: Date,
): Promise<void> {
  const keys = await crypto.subtle.generateKey(_EC_KEY, true, [
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
    signingAlgorithm: _SIGNING,
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
  await _writeSecret(keyPath, await _privateKeyPem(keys.privateKey));
  await _writePublic(certPath, `${leaf.toString("pem")}\n${ca.pem}`);
}

async function _leafReusable(
  certPath: string,
  keyPath: string,
  caCert: x509.X509Certificate,
  wanted: _SanName[],
  now: Date,
): Promise<boolean> {
  const certPem = await _readIfPresent(certPath);
  const keyPem = await _readIfPresent(keyPath);
  if (certPem === null || keyPem === null) return false;
  try {
    const der = _pemBlocks(certPem, "CERTIFICATE")[0];
    if (der === undefined) return false;
    const leaf = new x509.X509Certificate(der);
    if (leaf.notAfter <= now || leaf.notBefore > now) return false;
    const signedByCa = await leaf.verify({
      publicKey: caCert.publicKey,
      signatureOnly: true,
    });
    if (!signedByCa) return false;
    const have = new Set(_sanNames(leaf).map(_nameKey));
    if (!wanted.every((n) => have.has(_nameKey(n)))) return false;
    const key = await crypto.subtle.exportKey(
      "jwk",
      await _importPrivateKey(keyPem, true),
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

async function _refuseReadableKey(path: string): Promise<void> {
  let mode: number | null;
  try {
    mode = (await Deno.stat(path)).mode;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (mode !== null && (mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8);
    throw new Error(
      `${path} can be read by other users (mode ${octal}); ` +
        `run \`chmod 600 ${path}\` and start again.`,
    );
  }
}

function _parseName(raw: string): _SanName {
  let name = raw.trim();
  if (name.startsWith("[") && name.endsWith("]")) name = name.slice(1, -1);
  if (_IPV4.test(name)) return { type: "ip", value: name };
  if (name.includes(":")) {
    try {
      return {
        type: "ip",
        value: new URL(`http://[${name}]/`).hostname.slice(1, -1),
      };
    } catch {
      // fall through to the error below
    }
  }
  const dns = name.toLowerCase().replace(/\.$/, "");
  // A last label of digits only is a mistyped IP address, not a DNS name.
  if (dns.length > 253 || !_DNS_NAME.test(dns) || /(^|\.)\d+$/.test(dns)) {
    throw new TypeError(
      `"${raw}" is not a valid server name; use a DNS name such as ` +
        `chat.example.org or an IP address such as 192.0.2.10 or ::1`,
    );
  }
  return { type: "dns", value: dns };
}

function _sanNames(cert: x509.X509Certificate): _SanName[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names: _SanName[] = [];
  for (const item of san?.names.items ?? []) {
    if (item.type === "dns") {
      names.push({ type: "dns", value: item.value.toLowerCase() });
    }
    if (item.type === "ip") {
      try {
        names.push(_parseName(item.value));
      } catch {
        // an IP range or odd entry cannot match a host name; skip it
      }
    }
  }
  return names;
}

function _nameKey(name: _SanName): string {
  return `${name.type}:${name.value}`;
}

function _dedupe(names: _SanName[]): _SanName[] {
  const seen = new Map(names.map((n) => [_nameKey(n), n]));
  return [...seen.values()];
}

function _pemBlocks(pem: string, type: string): ArrayBuffer[] {
  return x509.PemConverter.decodeWithHeaders(pem)
    .filter((block) => block.type === type)
    .map((block) => block.rawData);
}

async function _importPrivateKey(
  pem: string,
  extractable: boolean,
): Promise<CryptoKey> {
  const der = _pemBlocks(pem, "PRIVATE KEY")[0];
  if (der === undefined) throw new TypeError("no PKCS#8 PRIVATE KEY block");
  return await crypto.subtle.importKey("pkcs8", der, _EC_KEY, extractable, [
    "sign",
  ]);
}

async function _privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return `${x509.PemConverter.encode(der, "PRIVATE KEY")}\n`;
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

async function _writeSecret(path: string, text: string): Promise<void> {
  const file = await Deno.open(path, {
    createNew: true,
    write: true,
    mode: 0o600,
  });
  try {
    await _writeAll(file, new TextEncoder().encode(text));
    await file.syncData();
  } finally {
    file.close();
  }
}

/** Write to a temporary file and rename it, so a crash never leaves half a certificate. */
async function _writePublic(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp`;
  const file = await Deno.open(temporary, {
    create: true,
    truncate: true,
    write: true,
    mode: 0o644,
  });
  try {
    await _writeAll(file, new TextEncoder().encode(text));
    await file.syncData();
  } finally {
    file.close();
  }
  await Deno.rename(temporary, path);
}

async function _writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    done += await file.write(bytes.subarray(done));
  }
}

async function _readIfPresent(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function _readRequired(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) {
      throw new Error(
        `TLS ${what} file not found: ${path}; check the path (or leave out ` +
          `--cert and --key to use the local CA).`,
        { cause },
      );
    }
    if (cause instanceof Deno.errors.PermissionDenied) {
      throw new Error(
        `cannot read TLS ${what} file ${path}: permission denied; make it ` +
          `readable by the user that runs the server.`,
        { cause },
      );
    }
    const message = `cannot read TLS ${what} file ${path}: ${String(cause)}`;
    throw new Error(message, { cause });
  }
}

async function _removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
