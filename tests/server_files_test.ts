/**
 * End-to-end: the server's directories and private files (issue 13.7).
 * A data or certs directory others may write to, or a symlinked key file,
 * stops `chat serve` with a clear error; with umask 000 the database, its
 * WAL files and the keys are still mode 0600.
 */
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIncludes,
} from "../shared/_test_assert.ts";
import { runChat, ServerProcess, tempDir } from "./_harness.ts";

const POSIX = Deno.build.os !== "windows";

/** `chat serve` on port 0 with `dir`/data and `dir`/certs; resolves when it exits. */
function serveIn(dir: string) {
  return runChat([
    "serve",
    "--port",
    "0",
    "--data",
    join(dir, "data"),
    "--certs",
    join(dir, "certs"),
  ]);
}

Deno.test({
  name: "the server refuses to start on a data directory others can write to",
  ignore: !POSIX,
  fn: async () => {
    await using dir = await tempDir();
    const data = join(dir.path, "data");
    await Deno.mkdir(data);
    await Deno.chmod(data, 0o777);
    const result = await serveIn(dir.path);
    assertEquals(result.code, 1, result.stderr);
    assertIncludes(
      result.stderr,
      `chat: error: the data directory ${data} can be written by other users (mode 777)`,
    );
    assertIncludes(result.stderr, `chat: hint: run \`chmod go-w ${data}\``);
    assert(!result.stdout.includes("listening"), result.stdout);
  },
});

Deno.test({
  name:
    "the server refuses to start on a certs directory its group can write to",
  ignore: !POSIX,
  fn: async () => {
    await using dir = await tempDir();
    const certs = join(dir.path, "certs");
    await Deno.mkdir(certs);
    await Deno.chmod(certs, 0o770);
    const result = await serveIn(dir.path);
    assertEquals(result.code, 1, result.stderr);
    assertIncludes(
      result.stderr,
      `the certificate directory ${certs} can be written by other users (mode 770)`,
    );
  },
});

Deno.test({
  name: "the server refuses a server key file that is a symbolic link",
  ignore: !POSIX,
  fn: async () => {
    await using dir = await tempDir();
    const certs = join(dir.path, "certs");
    await Deno.mkdir(certs, { mode: 0o700 });
    const elsewhere = join(dir.path, "elsewhere-key.pem");
    await Deno.writeTextFile(elsewhere, "not yours", { mode: 0o600 });
    await Deno.symlink(elsewhere, join(certs, "server-key.pem"));
    const result = await serveIn(dir.path);
    assertEquals(result.code, 1, result.stderr);
    assertIncludes(result.stderr, "server-key.pem is a symbolic link");
    assertEquals(await Deno.readTextFile(elsewhere), "not yours");
  },
});

Deno.test({
  name: "with umask 000 the database, its WAL files and the keys are mode 0600",
  ignore: !POSIX,
  fn: async () => {
    await using dir = await tempDir();
    const previous = Deno.umask(0);
    let server: ServerProcess;
    try {
      server = await ServerProcess.start({ dir: dir.path });
    } finally {
      Deno.umask(previous);
    }
    await using _server = server;
    const data = join(dir.path, "data"), certs = join(dir.path, "certs");
    const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;
    const privateFiles = [
      join(data, "chat.db"),
      join(certs, "server-key.pem"),
      join(certs, "ca-key.pem"),
    ];
    for (const name of ["chat.db-wal", "chat.db-shm"]) {
      const path = join(data, name);
      if (await Deno.lstat(path).then(() => true, () => false)) {
        privateFiles.push(path);
      }
    }
    assert(privateFiles.length === 5, `WAL files missing: ${privateFiles}`);
    for (const path of privateFiles) {
      assertEquals((await mode(path)).toString(8), "600", path);
    }
    assertEquals((await mode(data)).toString(8), "700");
    assertEquals((await mode(certs)).toString(8), "700");
  },
});

Deno.test({
  name:
    "a database file others could read is narrowed to 0600 and the log says so",
  ignore: !POSIX,
  fn: async () => {
    await using dir = await tempDir();
    const data = join(dir.path, "data");
    await Deno.mkdir(data, { mode: 0o700 });
    const db = join(data, "chat.db");
    await Deno.writeFile(db, new Uint8Array());
    await Deno.chmod(db, 0o644);
    await using server = await ServerProcess.start({ dir: dir.path });
    assertEquals(((await Deno.stat(db)).mode! & 0o777).toString(8), "600");
    assertIncludes(server.log, `${db} was readable by others (mode 644)`);
  },
});
