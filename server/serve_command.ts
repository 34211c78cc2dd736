/**
 * `chat serve` as a command: fill in defaults, start, print where the CA
 * is, stop cleanly on SIGINT/SIGTERM.
 * @module
 */
import { DEFAULT_SERVER_CONFIG, startServer } from "./serve.ts";

/** What the command line gave (undefined = default). */
export interface ServeArgs {
  host: string | undefined;
  port: number;
  dataDir: string | undefined;
  certsDir: string | undefined;
  names: string[];
  certPath: string | undefined;
  keyPath: string | undefined;
  traceFramesPath: string | undefined;
}

/** Run the server until a signal stops it. */
export async function runServeCommand(args: ServeArgs): Promise<void> {
  const config = {
    ...DEFAULT_SERVER_CONFIG,
    host: args.host ?? DEFAULT_SERVER_CONFIG.host,
    port: args.port,
    dataDir: args.dataDir ?? DEFAULT_SERVER_CONFIG.dataDir,
    certsDir: args.certsDir ?? DEFAULT_SERVER_CONFIG.certsDir,
    names: args.names,
    ...(args.certPath ? { certPath: args.certPath } : {}),
    ...(args.keyPath ? { keyPath: args.keyPath } : {}),
    ...(args.traceFramesPath ? { traceFramesPath: args.traceFramesPath } : {}),
  };
  const server = await startServer(config);
  const log = config.log;
  if (server.caPath) {
    log(
      `${
        server.certificateCreated ? "created" : "using"
      } local CA ${server.caPath}`,
    );
    log(`CA fingerprint (SHA-256) ${server.caFingerprint}`);
    log(
      `clients join with: chat join --user NAME --server ${server.hostname}:${server.port} --ca ${server.caPath}`,
    );
  }
  log(`listening on ${server.hostname}:${server.port}`);
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await stopped.promise;
  log("shutting down");
  const hardStop = setTimeout(() => {
    log("error: shutdown took over 5 s; exiting anyway");
    Deno.exit(1);
  }, 5000);
  await server.close();
  clearTimeout(hardStop);
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  log("stopped");
}
