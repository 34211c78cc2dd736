/**
 * How every simulated client reaches the target: TLS to 127.0.0.1 with the
 * run's CA, handshake finished before the first byte is written (so a
 * refused handshake fails the connect, not a later write).
 * @module
 */

/** Connect to 127.0.0.1:`port` trusting `caPem`; the connection is closed if the handshake fails. */
export async function connectLoopbackTls(
  port: number,
  caPem: string,
): Promise<Deno.TlsConn> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [caPem],
  });
  try {
    await conn.handshake();
  } catch (error) {
    conn.close();
    throw error;
  }
  return conn;
}
