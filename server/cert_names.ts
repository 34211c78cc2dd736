/**
 * The names a server certificate covers: parsing names given on the
 * command line into subject-alternative-name entries (DNS or IP), and
 * reading them back out of a certificate.
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

/** One subject alternative name. */
export interface SanName {
  /** A DNS name (wildcards allowed) or an IP address. */
  type: "dns" | "ip";
  /** Lowercase DNS name, or the address in its canonical text form. */
  value: string;
}

const _DNS_NAME =
  /^(\*\.)?[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const _OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const _IPV4 = new RegExp(`^(${_OCTET}\\.){3}${_OCTET}$`);

/** One name given for the certificate, as a SAN entry; TypeError if it is neither a DNS name nor an IP address. */
export function parseName(raw: string): SanName {
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

/** The DNS and IP names in a certificate's subject alternative names. */
export function sanNames(cert: x509.X509Certificate): SanName[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names: SanName[] = [];
  for (const item of san?.names.items ?? []) {
    if (item.type === "dns") {
      names.push({ type: "dns", value: item.value.toLowerCase() });
    }
    if (item.type === "ip") {
      try {
        names.push(parseName(item.value));
      } catch {
        // an IP range or odd entry cannot match a host name; skip it
      }
    }
  }
  return names;
}

/** A SAN entry as one comparable string, `type:value`. */
export function nameKey(name: SanName): string {
  return `${name.type}:${name.value}`;
}

/** The names without repeats, first occurrence kept. */
export function dedupeNames(names: SanName[]): SanName[] {
  const seen = new Map(names.map((n) => [nameKey(n), n]));
  return [...seen.values()];
}
