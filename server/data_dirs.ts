/**
 * The server's own directories and files: the data and certs directories
 * must belong to the user running the server and be writable by nobody
 * else (whoever can write there can swap `chat.db` or a key), and
 * `chat.db` with its `-wal` and `-shm` are readable by the owner only,
 * whatever the umask. Refusals are CliErrors with a hint.
 * @module
 */
import { join } from "node:path";
import { CliError } from "../shared/errors.ts";

/** The database file's name inside the data directory. */
export const DATABASE_FILE = "chat.db";

/** The files SQLite keeps beside the database in WAL mode. */
const DATABASE_FILES = [
  DATABASE_FILE,
  `${DATABASE_FILE}-wal`,
  `${DATABASE_FILE}-shm`,
];

/** Our uid, or null where there are none (Windows). */
function ourUid(): number | null {
  try {
    return Deno.uid();
  } catch {
    return null;
  }
}

/**
 * Refuse a directory (`what`, e.g. "data directory") that another user owns
 * or that group or others may write to. No-op where modes do not exist.
 */
export async function checkPrivateDir(
  path: string,
  what: string,
): Promise<void> {
  const info = await Deno.stat(path);
  if (!info.isDirectory) {
    throw new CliError(`the ${what} ${path} is not a directory`, {
      hint: `give a directory, or move ${path} away`,
    });
  }
  const uid = ourUid();
  if (uid !== null && info.uid !== null && info.uid !== uid) {
    throw new CliError(
      `the ${what} ${path} belongs to another user (uid ${info.uid}, the server runs as uid ${uid})`,
      {
        hint: `run the server as that user, or \`chown\` ${path} to uid ${uid}`,
      },
    );
  }
  if (info.mode !== null && (info.mode & 0o022) !== 0) {
    const octal = (info.mode & 0o777).toString(8);
    throw new CliError(
      `the ${what} ${path} can be written by other users (mode ${octal})`,
      { hint: `run \`chmod go-w ${path}\` (or chmod 700) and start again` },
    );
  }
}

/**
 * Check the data directory and make sure `chat.db` exists with mode 0600
 * before SQLite opens it (SQLite gives `-wal` and `-shm` the database's
 * mode). A database file, or its `-wal`/`-shm`, that others could read is
 * narrowed to 0600 and `log` says so. Returns the database path.
 */
export async function prepareDataDir(
  dataDir: string,
  log: (line: string) => void,
): Promise<string> {
  await checkPrivateDir(dataDir, "data directory");
  const database = join(dataDir, DATABASE_FILE);
  await createPrivateFile(database);
  for (const name of DATABASE_FILES) {
    await narrowToOwner(join(dataDir, name), log);
  }
  return database;
}

/** Create `path` empty with mode 0600 unless it exists. Refuses a symlink. */
async function createPrivateFile(path: string): Promise<void> {
  try {
    const file = await Deno.open(path, {
      createNew: true,
      write: true,
      mode: 0o600,
    });
    file.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
}

/** chmod 600 an existing regular file others may read or write; refuse a symlink. */
async function narrowToOwner(
  path: string,
  log: (line: string) => void,
): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (info.isSymlink) {
    throw new CliError(`${path} is a symbolic link; refusing to open it`, {
      hint: `put the real file in its place`,
    });
  }
  if (info.mode === null || (info.mode & 0o077) === 0) return;
  await Deno.chmod(path, 0o600);
  log(
    `${path} was readable by others (mode ${
      (info.mode & 0o777).toString(8)
    }); changed it to 600`,
  );
}
