/**
 * Loading the certificate and key the server serves (given with --cert and
 * --key, or made by the local CA), with a clear error for each way the
 * files can be wrong.
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { sanNames } from "./cert_names.ts";
import { pemBlocks } from "./pem_keys.ts";

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
  const der = pemBlocks(cert, "CERTIFICATE")[0];
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
  return { cert, key, names: sanNames(leaf).map((n) => n.value) };
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
