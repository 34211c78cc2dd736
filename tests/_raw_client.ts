/**
 * A hand-driven protocol client for end-to-end tests of the server's limits:
 * a real TLS connection that trusts the server's CA, frames read with the
 * product's codec and waited for with deadlines, and a login done by hand
 * with a generated identity, so a test can send exactly the bytes it wants
 * (or nothing at all, or never read).
 * @module
 */
import { encodeFrame, FrameDecoder, type RawFrame } from "../shared/codec.ts";
import { decodeFrameBody } from "../shared/codec.ts";
import { fromBase64Url, toBase64Url } from "../shared/bytes.ts";
import { generateIdentity } from "../shared/crypto/identity.ts";
import { signLogin } from "../shared/crypto/login.ts";
import { WAIT_MS } from "./_harness.ts";

/** Where a raw client connects: a ServerProcess has these. */
export interface RawTarget {
  port: number;
  caPath: string;
}

/** What a hand-made login needs of an identity. */
export interface RawIdentity {
  user: string;
  uid: string;
  idKey: Uint8Array<ArrayBuffer>;
  encKey: Uint8Array<ArrayBuffer>;
  signingKey: CryptoKey;
}

let sharedRsa: Promise<Uint8Array<ArrayBuffer>> | null = null;

/**
 * A fresh identity for `user`: its own Ed25519 key and uid. The RSA key
 * (3072 bits, ~1 s to make) is made once and shared: the server only checks
 * that it is well formed, and nothing here ever unwraps a sender key.
 */
export async function rawIdentity(user: string): Promise<RawIdentity> {
  sharedRsa ??= generateIdentity("shared").then((id) => id.encKey);
  const encKey = await sharedRsa;
  const ed = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  return {
    user,
    uid: crypto.randomUUID(),
    idKey: new Uint8Array(await crypto.subtle.exportKey("raw", ed.publicKey)),
    encKey,
    signingKey: ed.privateKey,
  };
}

/** How a connection ended, as its reader saw it. */
export interface RawEnd {
  /** "eof" for an orderly end of stream, otherwise the read error's message. */
  how: string;
  /** performance.now() when it was seen. */
  at: number;
}

/** An error frame. */
export type ErrorFrame = RawFrame & { code: string; message: string };

/**
 * One TLS connection to the server, frames in and out. Reading starts only
 * when a test first waits for something (or calls startReading), so a test
 * can play a client that never reads.
 */
export class RawConnection {
  readonly conn: Deno.TlsConn;
  /** Every frame received so far, in order. */
  readonly frames: RawFrame[] = [];
  #decoder = new FrameDecoder(16 * 1024 * 1024);
  #waiters: (() => void)[] = [];
  #reading: Promise<void> | null = null;
  #end: RawEnd | null = null;
  #closed = false;
  #paused = false;
  #resume: (() => void) | null = null;

  private constructor(conn: Deno.TlsConn) {
    this.conn = conn;
  }

  /** Connect and finish the TLS handshake (trusting only the server's CA). */
  static async open(target: RawTarget): Promise<RawConnection> {
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: target.port,
      caCerts: [await Deno.readTextFile(target.caPath)],
    });
    try {
      await conn.handshake();
    } catch (error) {
      conn.close();
      throw error;
    }
    return new RawConnection(conn);
  }

  /** The end of the stream once seen, else null. */
  get end(): RawEnd | null {
    return this.#end;
  }

  /** Begin (or resume) reading frames in the background (idempotent). */
  startReading(): void {
    this.#paused = false;
    this.#resume?.();
    this.#resume = null;
    this.#reading ??= this.#pump();
  }

  /**
   * Stop reading: after the read in flight (at most 64 KiB), nothing more is
   * taken from the socket until startReading(), so the server's writes
   * back up as they would for a client that stopped reading.
   */
  stopReading(): void {
    this.#paused = true;
  }

  async #pump(): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        if (this.#paused) {
          await new Promise<void>((resume) => this.#resume = resume);
        }
        const n = await this.conn.read(buffer);
        if (n === null) {
          this.#finish("eof");
          return;
        }
        for (const body of this.#decoder.pushBodies(buffer.subarray(0, n))) {
          let frame: RawFrame;
          try {
            frame = decodeFrameBody(body);
          } catch {
            frame = { t: "(unparsable)", bytes: body.length };
          }
          this.frames.push(frame);
        }
        this.#wake();
      }
    } catch (error) {
      this.#finish(
        this.#closed ? "closed by the test" : (error as Error).message,
      );
    }
  }

  #finish(how: string): void {
    this.#end ??= { how, at: performance.now() };
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Wait until `check` returns something (re-checked on every new frame or the end). */
  #until<T>(
    check: () => T | undefined,
    what: string,
    ms: number,
  ): Promise<T> {
    this.startReading();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== poll);
        reject(
          new Error(
            `timed out after ${ms} ms waiting for ${what}; frames: ${this.#describe()}`,
          ),
        );
      }, ms);
      const poll = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (error) {
          clearTimeout(timer);
          reject(error);
          return;
        }
        if (value !== undefined) {
          clearTimeout(timer);
          resolve(value);
        } else {
          this.#waiters.push(poll);
        }
      };
      poll();
    });
  }

  #describe(): string {
    const types = this.frames.map((f) =>
      f.t === "error" ? `error:${f.code}` : f.t
    );
    const shown = types.length > 20
      ? [...types.slice(0, 10), "…", ...types.slice(-10)]
      : types;
    return `[${shown.join(", ")}] (${this.frames.length}), end: ${
      this.#end?.how ?? "open"
    }`;
  }

  /**
   * The first frame (past or future) that matches. Fails at once if the
   * connection ends without one, and after `ms` if none comes.
   */
  waitFor(
    match: (frame: RawFrame) => boolean,
    what: string,
    ms = WAIT_MS,
  ): Promise<RawFrame> {
    return this.#until(
      () => {
        const found = this.frames.find(match);
        if (found) return found;
        if (this.#end) {
          throw new Error(
            `connection ended (${this.#end.how}) before ${what}; frames: ${this.#describe()}`,
          );
        }
        return undefined;
      },
      what,
      ms,
    );
  }

  /** The first error frame with `code`. */
  async waitForError(code: string, ms = WAIT_MS): Promise<ErrorFrame> {
    return await this.waitFor(
      (f) => f.t === "error" && f.code === code,
      `an error frame with code ${code}`,
      ms,
    ) as ErrorFrame;
  }

  /** Wait until the server ends the connection (EOF or a read error). */
  waitForEnd(ms = WAIT_MS): Promise<RawEnd> {
    return this.#until(
      () => this.#end ?? undefined,
      "the server to close the connection",
      ms,
    );
  }

  /** Send one frame. */
  async send(frame: RawFrame): Promise<void> {
    await this.sendBytes(encodeFrame(frame));
  }

  /** Send raw bytes (all of them). */
  async sendBytes(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      written += await this.conn.write(bytes.subarray(written));
    }
  }

  /** A ping answered by a pong with the same n: proof the connection is served. */
  async roundTrip(n: number, ms = WAIT_MS): Promise<void> {
    await this.send({ t: "ping", n });
    await this.waitFor((f) => f.t === "pong" && f.n === n, `pong ${n}`, ms);
  }

  /** Close (idempotent) and wait for the reader to stop. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.conn.close();
      } catch {
        // the server closed it first
      }
    }
    if (this.#reading) this.startReading(); // a paused reader must see the close
    await this.#reading;
  }

  /** For `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The server's challenge. */
export interface Hello {
  session: string;
  nonce: string;
}

/** Wait for the server's hello. */
export async function readHello(
  conn: RawConnection,
  ms = WAIT_MS,
): Promise<Hello> {
  const hello = await conn.waitFor((f) => f.t === "hello", "hello", ms);
  return { session: String(hello.session), nonce: String(hello.nonce) };
}

/**
 * The login frame for `identity` answering `hello`, signed as a real
 * client does (docs/protocol.md, section 5). `forge` flips a bit of the
 * signature.
 */
export async function loginFrame(
  identity: RawIdentity,
  hello: Hello,
  options: { server?: string; forge?: boolean } = {},
): Promise<RawFrame> {
  const server = options.server ?? "127.0.0.1";
  const sig = await signLogin(identity.signingKey, {
    server,
    session: hello.session,
    nonce: fromBase64Url(hello.nonce),
    uid: identity.uid,
    user: identity.user,
    idKey: identity.idKey,
    encKey: identity.encKey,
  });
  if (options.forge) sig[0]! ^= 1;
  return {
    t: "login",
    user: identity.user,
    uid: identity.uid,
    server,
    idKey: toBase64Url(identity.idKey),
    encKey: toBase64Url(identity.encKey),
    sig: toBase64Url(sig),
  };
}

/** Read hello, send a good login, wait for welcome. Returns the welcome. */
export async function logIn(
  conn: RawConnection,
  identity: RawIdentity,
  ms = WAIT_MS,
): Promise<RawFrame> {
  const hello = await readHello(conn, ms);
  await conn.send(await loginFrame(identity, hello));
  return await conn.waitFor(
    (f) => f.t === "welcome" || f.t === "error",
    `welcome for ${identity.user}`,
    ms,
  ).then((f) => {
    if (f.t === "error") {
      throw new Error(`login of ${identity.user} refused: ${f.code}`);
    }
    return f;
  });
}

/** Connect and log in. */
export async function connectAs(
  target: RawTarget,
  identity: RawIdentity,
): Promise<RawConnection> {
  const conn = await RawConnection.open(target);
  try {
    await logIn(conn, identity);
  } catch (error) {
    await conn.close();
    throw error;
  }
  return conn;
}

/** Join a room; resolves with the `joined` frame (its roster is needed for keys). */
export async function joinRoom(
  conn: RawConnection,
  room: string,
): Promise<RawFrame> {
  const seen = conn.frames.length;
  await conn.send({ t: "join", room });
  return await conn.waitFor(
    (f) =>
      f.t === "joined" && f.room === room && conn.frames.indexOf(f) >= seen,
    `joined ${room}`,
  );
}

function randomB64(bytes: number): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * Announce a sender key for `room` under `epoch`, wrapped for ourselves
 * only. The server checks the shape, the roster and the epoch, not the
 * cryptography (that is end to end), so the wrap and signature are random.
 */
export async function sendKeys(
  conn: RawConnection,
  identity: RawIdentity,
  room: string,
  epoch: number,
  roster: number,
): Promise<void> {
  await conn.send({
    t: "keys",
    room,
    epoch,
    roster,
    wraps: [{
      to: identity.user.toLowerCase(),
      wrap: randomB64(384),
      sig: randomB64(64),
    }],
  });
}

/** A well-formed `msg` frame with random ciphertext of `ctBytes` bytes. */
export function messageFrame(
  room: string,
  epoch: number,
  counter: number,
  options: { id?: string; ctBytes?: number } = {},
): RawFrame {
  return {
    t: "msg",
    id: options.id ?? crypto.randomUUID(),
    room,
    epoch,
    counter,
    ts: Date.now(),
    iv: randomB64(12),
    ct: randomB64(options.ctBytes ?? 64),
    sig: randomB64(64),
  };
}
