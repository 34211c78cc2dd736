/**
 * Binding the server's TLS listener, with the usual failures (port in use,
 * no permission, not an address of this machine) explained once, with a
 * hint, instead of a raw error printed twice.
 * @module
 */
import { CliError } from "../shared/errors.ts";
import { TlsListener, type TlsListenOptions } from "./tls_listener.ts";

/**
 * Bind the TLS listener. A failure to bind is thrown once, as a
 * {@linkcode CliError} with a hint for the usual causes; the listener's own
 * error log is quiet until it is bound (it would print the same failure a
 * second time).
 */
export async function listenOrExplain(
  options: TlsListenOptions,
): Promise<TlsListener> {
  let bound = false;
  try {
    const listener = await TlsListener.listen({
      ...options,
      log: (line) => bound && options.log(line),
    });
    bound = true;
    return listener;
  } catch (cause) {
    const where = `${options.hostname}:${options.port}`;
    switch ((cause as { code?: string }).code) {
      case "EADDRINUSE":
        throw new CliError(
          `cannot listen on ${where}: the address is already in use`,
          {
            hint: "use --port N, or stop the other server",
            cause,
          },
        );
      case "EACCES":
        throw new CliError(
          `cannot listen on ${where}: permission denied`,
          {
            hint: "ports below 1024 need privileges: use --port N above 1023",
            cause,
          },
        );
      case "EADDRNOTAVAIL":
      case "EINVAL":
        throw new CliError(
          `cannot listen on ${where}: ${(cause as Error).message}`,
          {
            hint:
              "is --host an address of this machine? use 127.0.0.1, or 0.0.0.0 for every address",
            cause,
          },
        );
    }
    throw cause;
  }
}
