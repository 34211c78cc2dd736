/**
 * Reaching the server: parse HOST:PORT, open TLS trusting the given CA (or
 * the system roots), and turn TLS failures into messages a person can act on.
 * There is deliberately no way to skip certificate checks.
 * @module
 */
import { CliError } from "../shared/errors.ts";
import { certificateDer } from "../shared/pem.ts";
import { Backoff } from "./backoff.ts";

/** Where the server is. */
export interface ServerAddress {
  host: string;
  port: number;
}

/** Default port of `chat serve`. */
export const DEFAULT_PORT = 7443;

/** Parse `host`, `host:port` or `[v6]:port`. Throws a {@linkcode CliError} with a hint on junk. */
export function parseServerAddress(text: string): ServerAddress {
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([A-Za-z0-9.-]+)(?::(\d+))?$/.exec(text);
  const match = v6 ?? plain;
  const port = Number(match?.[2] ?? DEFAULT_PORT);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CliError(`bad --server "${text}"`, {
      hint: "use HOST:PORT, e.g. chat.example.org:7443 or 127.0.0.1:7443",
    });
  }
  return { host: match[1]!, port };
}

/** A failure to reach the server, with a hint line for the user. */
function hinted(message: string, hint: string, cause?: unknown): CliError {
  return new CliError(message, { hint, cause });
}

/**
 * Read a CA file given with --ca, with a helpful {@linkcode CliError}: it must exist and
 * hold a PEM certificate (a file that holds none would otherwise surface
 * later as "not the CA of this server", which sends people the wrong way).
 */
export async function readCaFile(caPath: string): Promise<string> {
  let pem: string;
  try {
    pem = await Deno.readTextFile(caPath);
  } catch (cause) {
    throw hinted(
      `cannot read the CA file ${caPath}: ${(cause as Error).message}`,
      "pass the ca.pem that `chat serve` printed",
      cause,
    );
  }
  if (certificateDer(pem) === null) {
    throw hinted(
      `${caPath} holds no PEM certificate`,
      "pass the ca.pem that `chat serve` printed (it starts with -----BEGIN CERTIFICATE-----)",
    );
  }
  return pem;
}

/** The CA a connection trusts: its PEM and where it came from (for messages). */
export interface TrustedCa {
  pem: string;
  from: string;
}

/**
 * How long opening a connection (TCP, then the TLS handshake) may take. A
 * connection attempt that gets no answer (a SYN dropped, a server that
 * accepted but never answers the handshake) fails after this and is retried,
 * instead of waiting for the kernel to give up minutes later.
 */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Settles like `promise`, or rejects with `TimedOut(message)` after `ms`. */
async function within<T>(
  promise: Promise<T>,
  ms: number,
  message: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Deno.errors.TimedOut(message)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Open a TLS connection trusting `ca` (or the system roots) and complete the
 * handshake. A failure is thrown as a {@linkcode CliError} saying what went
 * wrong, with a hint (the reconnect loop shows only its message).
 */
export async function connectToServer(
  address: ServerAddress,
  ca: TrustedCa | null,
  timeoutMs = CONNECT_TIMEOUT_MS,
): Promise<Deno.TlsConn> {
  const where = `${address.host}:${address.port}`;
  const started = performance.now();
  const noAnswer = `no answer within ${timeoutMs / 1000} s`;
  let conn: Deno.TlsConn;
  const connecting = Deno.connectTls({
    hostname: address.host,
    port: address.port,
    ...(ca ? { caCerts: [ca.pem] } : {}),
  });
  try {
    conn = await within(connecting, timeoutMs, noAnswer);
  } catch (cause) {
    if (cause instanceof Deno.errors.TimedOut) {
      // a connection that completes after all is closed, not leaked
      connecting.then((late) => late.close(), () => {});
    }
    throw connectFailure(cause, where);
  }
  try {
    const left = Math.max(0, timeoutMs - (performance.now() - started));
    await within(conn.handshake(), left, noAnswer);
  } catch (cause) {
    conn.close();
    throw handshakeFailure(cause, address, ca);
  }
  return conn;
}

/** What to tell the user when the TCP connection could not be opened. */
function connectFailure(cause: unknown, where: string): CliError {
  if (cause instanceof Deno.errors.ConnectionRefused) {
    return hinted(
      `cannot connect to ${where}: connection refused`,
      "is `chat serve` running there? check --server",
      cause,
    );
  }
  return hinted(
    `cannot connect to ${where}: ${(cause as Error).message}`,
    "check --server and your network",
    cause,
  );
}

/**
 * The server closed the connection during the TLS handshake: not a wrong
 * --server or --ca, but a server that is busy or refusing this address
 * (over a handshake cap). Worth retrying after a pause.
 */
export class HandshakeClosedError extends CliError {
  /** The error for a handshake `where` closed under us. */
  constructor(where: string, cause: unknown) {
    super(
      `${where}: the server closed the connection during the TLS handshake (it may be busy or refusing your address)`,
      {
        hint:
          "try again in a minute; if it keeps happening, ask the server's operator",
        cause,
      },
    );
  }
}

/** Whether `cause` is the peer closing the connection mid-handshake. */
function closedMidHandshake(cause: unknown): boolean {
  return cause instanceof Deno.errors.UnexpectedEof ||
    cause instanceof Deno.errors.ConnectionReset ||
    cause instanceof Deno.errors.BrokenPipe ||
    /unexpected end of file|connection reset|broken pipe/i.test(
      (cause as Error)?.message ?? "",
    );
}

/** How connectRetrying retries a handshake the server closed. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  /** Told what is happening, one line per retry. */
  say: (line: string) => void;
  backoff?: Backoff;
  sleep?: (ms: number) => Promise<void>;
  timeoutMs?: number;
}

/**
 * {@linkcode connectToServer}, retried with backoff (a bounded number of
 * times, saying so each time) while the server closes the connection during
 * the TLS handshake; any other failure, or the last one, is thrown.
 */
export async function connectRetrying(
  address: ServerAddress,
  ca: TrustedCa | null,
  options: RetryOptions,
): Promise<Deno.TlsConn> {
  const attempts = options.attempts ?? 5;
  const backoff = options.backoff ?? new Backoff({ initialMs: 1000 });
  const sleep = options.sleep ??
    ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1;; attempt++) {
    try {
      return await connectToServer(address, ca, options.timeoutMs);
    } catch (error) {
      if (!(error instanceof HandshakeClosedError) || attempt >= attempts) {
        throw error;
      }
      const delay = backoff.next();
      options.say(
        `the server closed the connection during the TLS handshake; retrying in ${
          (delay / 1000).toFixed(1)
        } s (attempt ${attempt + 1} of ${attempts})`,
      );
      await sleep(delay);
    }
  }
}

/** What to tell the user when the TLS handshake failed or got no answer. */
function handshakeFailure(
  cause: unknown,
  address: ServerAddress,
  ca: TrustedCa | null,
): CliError {
  const where = `${address.host}:${address.port}`;
  if (closedMidHandshake(cause)) return new HandshakeClosedError(where, cause);
  if (cause instanceof Deno.errors.TimedOut) {
    return hinted(
      `the TLS handshake with ${where} got ${cause.message}`,
      "is a chat server listening there? check --server",
      cause,
    );
  }
  const detail = (cause as Error).message;
  if (/UnknownIssuer|UnknownCA|BadSignature/.test(detail)) {
    return hinted(
      `TLS error: the certificate of ${where} is not signed by a CA you trust (${detail})`,
      ca?.from
        ? `${ca.from} is not the CA of this server; get the right ca.pem from its operator`
        : "pass the server's CA with --ca FILE (chat serve prints its path and fingerprint)",
      cause,
    );
  }
  if (/NotValidForName|CertNotValidForName/.test(detail)) {
    return hinted(
      `TLS error: the certificate of ${where} is not valid for the name "${address.host}" (${detail})`,
      "connect with a name the certificate lists (chat serve --name adds names)",
      cause,
    );
  }
  return hinted(
    `TLS error with ${where}: ${detail}`,
    "check --server and --ca",
    cause,
  );
}
