import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { certificateFingerprint, ensureLocalCertificates } from "./local_ca.ts";
import { loadServerTls } from "./server_tls.ts";

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;
const DAY_MS = 86_400_000;

function assert(
  condition: unknown,
  message = "assertion failed",
): asserts condition {
  if (!condition) throw new Error(message);
}

function assertEquals(actual: unknown, expected: unknown, message = ""): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) {
    throw new Error(`${message}\n  actual:   ${a}\n  expected: ${e}`);
  }
}

async function assertRejects(
  run: () => Promise<unknown>,
  includes = "",
  ErrorClass: new (...args: never[]) => Error = Error,
): Promise<Error> {
  try {
    await run();
  } catch (error) {
    assert(
      error instanceof ErrorClass,
      `expected ${ErrorClass.name}, got ${String(error)}`,
    );
    assert(
      error.message.includes(includes),
      `expected message to include "${includes}", got "${error.message}"`,
    );
    return error;
  }
  throw new Error("expected the promise to reject, but it resolved");
}

async function withTempDirs(
  count: number,
  body: (...dirs: string[]) => Promise<void>,
): Promise<void> {
  const dirs: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      dirs.push(await Deno.makeTempDir({ prefix: "local_ca_" }));
    }
    await body(...dirs.map((dir) => `${dir}/certs`));
  } finally {
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
}

async function readAll(conn: Deno.Conn, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  for (let got = 0; got < length;) {
    const n = await conn.read(out.subarray(got));
    if (n === null) {
      throw new Error(`connection closed after ${got} of ${length} bytes`);
    }
    got += n;
  }
  return out;
}

/** Connect a TLS client to `listener`, run both handshakes, and hand both ends to `body`. */
async function withTlsPair(
  listener: Deno.TlsListener,
  connect: Deno.ConnectTlsOptions,
  body: (client: Deno.TlsConn, server: Deno.TlsConn) => Promise<void>,
): Promise<void> {
  const accepted = listener.accept();
  using client = await Deno.connectTls(connect);
  using server = await accepted;
  await body(client, server);
}

function sanValues(cert: x509.X509Certificate): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return (san?.names.items ?? []).map((item) => `${item.type}:${item.value}`);
}

Deno.test("first run creates a CA, a server certificate and owner-only key files", async () => {
  await withTempDirs(1, async (dir) => {
    const tls = await ensureLocalCertificates(dir!, []);
    assertEquals(tls.created, true);
    assertEquals(tls.certPath, `${dir}/server.pem`);
    assertEquals(tls.keyPath, `${dir}/server-key.pem`);
    assertEquals(tls.caPath, `${dir}/ca.pem`);
    for (
      const name of ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"]
    ) {
      assert(
        (await Deno.stat(`${dir}/${name}`)).isFile,
        `${name} was not created`,
      );
    }
    for (const name of ["ca-key.pem", "server-key.pem"]) {
      assertEquals(
        (await Deno.stat(`${dir}/${name}`)).mode! & 0o777,
        0o600,
        name,
      );
    }
    assertEquals(
      (await Deno.stat(dir!)).mode! & 0o777,
      0o700,
      "certs dir mode",
    );
    assert(
      FINGERPRINT.test(tls.caFingerprint ?? ""),
      `bad fingerprint ${tls.caFingerprint}`,
    );
    const caPem = await Deno.readTextFile(`${dir}/ca.pem`);
    assertEquals(tls.caFingerprint, await certificateFingerprint(caPem));
    const serverPem = await Deno.readTextFile(`${dir}/server.pem`);
    const chain = x509.PemConverter.decode(serverPem);
    assertEquals(chain.length, 2, "server.pem holds leaf then CA");
    assertEquals(
      await certificateFingerprint(
        x509.PemConverter.encode(chain[1]!, "CERTIFICATE"),
      ),
      tls.caFingerprint,
    );
  });
});

Deno.test("the CA and server certificates carry the required extensions and lifetimes", async () => {
  await withTempDirs(1, async (dir) => {
    const now = new Date("2030-01-15T12:00:00Z");
    await ensureLocalCertificates(dir!, ["chat.example.org", "10.1.2.3"], {
      now,
    });
    const ca = new x509.X509Certificate(
      await Deno.readTextFile(`${dir}/ca.pem`),
    );
    const leaf = new x509.X509Certificate(
      x509.PemConverter.decode(
        await Deno.readTextFile(`${dir}/server.pem`),
      )[0]!,
    );

    assert(/^CN=chat local CA [0-9a-f]{8}$/.test(ca.subject), ca.subject);
    assert(await ca.isSelfSigned(), "CA is not self-signed");
    const caBasic = ca.getExtension(x509.BasicConstraintsExtension);
    assertEquals([caBasic?.ca, caBasic?.pathLength, caBasic?.critical], [
      true,
      0,
      true,
    ]);
    const caUsage = ca.getExtension(x509.KeyUsagesExtension);
    assertEquals([caUsage?.usages, caUsage?.critical], [
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
      true,
    ]);
    assertEquals(ca.serialNumber.length, 32, "16-byte CA serial");
    assert(
      parseInt(ca.serialNumber.slice(0, 2), 16) < 0x80,
      "CA serial must be positive",
    );
    assertEquals(ca.notBefore.getTime(), now.getTime() - 3_600_000);
    assertEquals(ca.notAfter.toISOString(), "2040-01-15T11:00:00.000Z");

    assertEquals(leaf.issuer, ca.subject);
    assert(
      await leaf.verify({ publicKey: ca.publicKey, signatureOnly: true }),
      "leaf not signed by CA",
    );
    const leafBasic = leaf.getExtension(x509.BasicConstraintsExtension);
    assertEquals(leafBasic?.ca, false);
    const leafUsage = leaf.getExtension(x509.KeyUsagesExtension);
    assertEquals([leafUsage?.usages, leafUsage?.critical], [
      x509.KeyUsageFlags.digitalSignature,
      true,
    ]);
    assertEquals(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages, [
      x509.ExtendedKeyUsage.serverAuth,
    ]);
    assertEquals(sanValues(leaf).sort(), [
      "dns:chat.example.org",
      "dns:localhost",
      "ip:10.1.2.3",
      "ip:127.0.0.1",
    ]);
    assertEquals(leaf.serialNumber.length, 32, "16-byte leaf serial");
    assert(leaf.serialNumber !== ca.serialNumber, "serials must differ");
    assertEquals(leaf.notBefore.getTime(), now.getTime() - 3_600_000);
    assertEquals(
      leaf.notAfter.getTime() - leaf.notBefore.getTime(),
      825 * DAY_MS,
    );
    assert((await ca.publicKey.export()).algorithm.name === "ECDSA");
    assertEquals(leaf.signatureAlgorithm, {
      name: "ECDSA",
      hash: { name: "SHA-256" },
    });
  });
});

Deno.test("the generated certificates complete a real TLS handshake for localhost and 127.0.0.1", async () => {
  await withTempDirs(1, async (dir) => {
    const tls = await ensureLocalCertificates(dir!, []);
    const { cert, key } = await loadServerTls(tls.certPath, tls.keyPath);
    const caPem = await Deno.readTextFile(tls.caPath!);
    using listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert,
      key,
    });
    for (const hostname of ["localhost", "127.0.0.1"]) {
      const connect = {
        hostname,
        port: listener.addr.port,
        caCerts: [caPem],
      };
      await withTlsPair(listener, connect, async (client, server) => {
        await Promise.all([client.handshake(), server.handshake()]);
        const hello = new TextEncoder().encode(`hello ${hostname}`);
        await client.write(hello);
        assertEquals(
          new TextDecoder().decode(await readAll(server, hello.length)),
          `hello ${hostname}`,
        );
      });
    }
  });
});

Deno.test("a client that trusts a different CA fails the handshake", async () => {
  await withTempDirs(2, async (dir, otherDir) => {
    const tls = await ensureLocalCertificates(dir!, []);
    const other = await ensureLocalCertificates(otherDir!, []);
    assert(
      tls.caFingerprint !== other.caFingerprint,
      "two runs made the same CA",
    );
    const { cert, key } = await loadServerTls(tls.certPath, tls.keyPath);
    const otherCa = await Deno.readTextFile(other.caPath!);
    using listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert,
      key,
    });
    const connect = {
      hostname: "localhost",
      port: listener.addr.port,
      caCerts: [otherCa],
    };
    await withTlsPair(listener, connect, async (client, server) => {
      const serverSide = server.handshake().catch((error: Error) => error);
      // Observed (Deno 2.9.6): client rejects with InvalidData "invalid peer
      // certificate: UnknownIssuer"; the server then gets InvalidData
      // "received fatal alert: UnknownCA".
      const error = await assertRejects(
        () => client.handshake(),
        "UnknownIssuer",
      );
      assertEquals(error.name, "InvalidData");
      assert(
        await serverSide instanceof Error,
        "server handshake should fail",
      );
    });
  });
});

Deno.test("rustls clients refuse the CA certificate served as a server certificate", async () => {
  await withTempDirs(1, async (dir) => {
    await ensureLocalCertificates(dir!, []);
    const caPem = await Deno.readTextFile(`${dir}/ca.pem`);
    const caKey = await Deno.readTextFile(`${dir}/ca-key.pem`);
    await assertRejects(
      () => loadServerTls(`${dir}/ca.pem`, `${dir}/ca-key.pem`),
      "CA:TRUE",
    );
    using listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: caPem,
      key: caKey,
    });
    const connect = {
      hostname: "127.0.0.1",
      port: listener.addr.port,
      caCerts: [caPem],
    };
    await withTlsPair(listener, connect, async (client, server) => {
      const serverSide = server.handshake().catch((error: Error) => error);
      // Observed (Deno 2.9.6): client rejects with InvalidData "invalid peer
      // certificate: Other(OtherError(CaUsedAsEndEntity))"; the server then
      // gets InvalidData "received fatal alert: CertificateUnknown".
      await assertRejects(() => client.handshake(), "CaUsedAsEndEntity");
      assert(
        await serverSide instanceof Error,
        "server handshake should fail",
      );
    });
  });
});

Deno.test("a second run reuses the CA and the server certificate", async () => {
  await withTempDirs(1, async (dir) => {
    const first = await ensureLocalCertificates(dir!, ["chat.example.org"]);
    const serverPem = await Deno.readTextFile(first.certPath);
    const serverKey = await Deno.readTextFile(first.keyPath);
    const second = await ensureLocalCertificates(dir!, [
      "CHAT.example.org.",
      "localhost",
    ]);
    assertEquals(second.created, false);
    assertEquals(second.caFingerprint, first.caFingerprint);
    assertEquals(await Deno.readTextFile(second.certPath), serverPem);
    assertEquals(await Deno.readTextFile(second.keyPath), serverKey);
  });
});

Deno.test("a new server name keeps the CA and re-issues the server certificate", async () => {
  await withTempDirs(1, async (dir) => {
    const first = await ensureLocalCertificates(dir!, []);
    const before = await loadServerTls(first.certPath, first.keyPath);
    assert(
      !before.names.includes("chat.example.org"),
      "name present too early",
    );
    const second = await ensureLocalCertificates(dir!, [
      "chat.example.org",
      "[::1]",
    ]);
    assertEquals(second.created, true);
    assertEquals(second.caFingerprint, first.caFingerprint);
    const after = await loadServerTls(second.certPath, second.keyPath);
    assert(after.cert !== before.cert, "server.pem was not re-issued");
    assert(after.key !== before.key, "server-key.pem was not replaced");
    assertEquals([...after.names].sort(), [
      "127.0.0.1",
      "::1",
      "chat.example.org",
      "localhost",
    ]);
    assertEquals((await Deno.stat(second.keyPath)).mode! & 0o777, 0o600);
    // The IPv6 name in another spelling is already covered.
    const third = await ensureLocalCertificates(dir!, ["0:0:0:0:0:0:0:1"]);
    assertEquals(third.created, false);
  });
});

Deno.test("an expired server certificate is re-issued under the same CA", async () => {
  await withTempDirs(1, async (dir) => {
    const now = new Date("2030-01-01T00:00:00Z");
    const first = await ensureLocalCertificates(dir!, [], { now });
    const oldLeaf = await Deno.readTextFile(first.certPath);
    const justBefore = new Date(now.getTime() + 824 * DAY_MS);
    assertEquals(
      (await ensureLocalCertificates(dir!, [], { now: justBefore })).created,
      false,
    );
    const later = new Date(now.getTime() + 826 * DAY_MS);
    const second = await ensureLocalCertificates(dir!, [], { now: later });
    assertEquals(second.created, true);
    assertEquals(second.caFingerprint, first.caFingerprint);
    const leaf = new x509.X509Certificate(
      x509.PemConverter.decode(await Deno.readTextFile(second.certPath))[0]!,
    );
    assert(
      leaf.notAfter > later,
      "new leaf must be valid after the old one expired",
    );
    assert(await Deno.readTextFile(second.certPath) !== oldLeaf);
  });
});

Deno.test("a server certificate left without its key by a crash is re-issued", async () => {
  await withTempDirs(1, async (dir) => {
    const first = await ensureLocalCertificates(dir!, []);
    const oldLeaf = await Deno.readTextFile(first.certPath);
    await Deno.remove(first.keyPath);
    const second = await ensureLocalCertificates(dir!, []);
    assertEquals(second.created, true);
    assertEquals(second.caFingerprint, first.caFingerprint);
    assert(
      await Deno.readTextFile(second.certPath) !== oldLeaf,
      "leaf was not re-issued",
    );
    await loadServerTls(second.certPath, second.keyPath);
  });
});

Deno.test("a CA key left without its certificate by a crash starts a new CA", async () => {
  await withTempDirs(1, async (dir) => {
    const first = await ensureLocalCertificates(dir!, []);
    await Deno.remove(first.caPath!);
    const second = await ensureLocalCertificates(dir!, []);
    assertEquals(second.created, true);
    assert(second.caFingerprint !== first.caFingerprint, "CA was not replaced");
    assertEquals(
      second.caFingerprint,
      await certificateFingerprint(await Deno.readTextFile(second.caPath!)),
    );
  });
});

Deno.test("a valid server certificate keeps serving when ca-key.pem was moved offline", async () => {
  await withTempDirs(1, async (dir) => {
    const first = await ensureLocalCertificates(dir!, []);
    await Deno.remove(`${dir}/ca-key.pem`);
    assertEquals((await ensureLocalCertificates(dir!, [])).created, false);
    await assertRejects(
      () => ensureLocalCertificates(dir!, ["chat.example.org"]),
      "ca-key.pem is missing",
    );
    assertEquals(
      first.caFingerprint,
      await certificateFingerprint(await Deno.readTextFile(first.caPath!)),
    );
  });
});

Deno.test("a ca-key.pem from another CA is refused", async () => {
  await withTempDirs(2, async (dir, otherDir) => {
    await ensureLocalCertificates(dir!, []);
    await ensureLocalCertificates(otherDir!, []);
    await Deno.remove(`${dir}/ca-key.pem`);
    await Deno.copyFile(`${otherDir}/ca-key.pem`, `${dir}/ca-key.pem`);
    await Deno.chmod(`${dir}/ca-key.pem`, 0o600);
    await assertRejects(
      () => ensureLocalCertificates(dir!, []),
      "does not match",
    );
  });
});

Deno.test("a group-readable ca-key.pem is refused with a chmod 600 hint", async () => {
  await withTempDirs(1, async (dir) => {
    await ensureLocalCertificates(dir!, []);
    await Deno.chmod(`${dir}/ca-key.pem`, 0o644);
    const error = await assertRejects(
      () => ensureLocalCertificates(dir!, []),
      "chmod 600",
    );
    assert(error.message.includes(`${dir}/ca-key.pem`), error.message);
  });
});

Deno.test("loadServerTls names the missing file in its error", async () => {
  await withTempDirs(1, async (dir) => {
    const tls = await ensureLocalCertificates(dir!, []);
    await assertRejects(
      () => loadServerTls(`${dir}/nope.pem`, tls.keyPath),
      `${dir}/nope.pem`,
    );
    await assertRejects(
      () => loadServerTls(tls.certPath, `${dir}/nope-key.pem`),
      `${dir}/nope-key.pem`,
    );
  });
});

Deno.test("loadServerTls explains files that hold no certificate or no key", async () => {
  await withTempDirs(1, async (dir) => {
    const tls = await ensureLocalCertificates(dir!, []);
    await Deno.writeTextFile(`${dir}/junk.pem`, "not a certificate\n");
    await assertRejects(
      () => loadServerTls(`${dir}/junk.pem`, tls.keyPath),
      "holds no PEM certificate",
    );
    await assertRejects(
      () => loadServerTls(tls.certPath, tls.certPath),
      "holds no PEM private key",
    );
  });
});

Deno.test("a server name that is neither a DNS name nor an IP address is rejected", async () => {
  await withTempDirs(1, async (dir) => {
    await assertRejects(
      () => ensureLocalCertificates(dir!, ["not a host"]),
      '"not a host"',
      TypeError,
    );
    await assertRejects(
      () => ensureLocalCertificates(dir!, ["1.2.3.4."]),
      "not a valid server name",
      TypeError,
    );
  });
});

Deno.test("certificateFingerprint rejects text without a certificate", async () => {
  await assertRejects(
    () => certificateFingerprint("hello"),
    "CERTIFICATE",
    TypeError,
  );
});
