/**
 * A real terminal for end-to-end tests: one tmux session on a private socket
 * in a temp dir (never the user's tmux server), driven with `send-keys` and
 * read with `capture-pane`. Every tmux call is a `Deno.Command` that is
 * awaited to the end, so nothing leaks past `kill()`.
 * @module
 */
import { join } from "node:path";
import { type ServerProcess, WAIT_MS } from "./_harness.ts";

const decoder = new TextDecoder();
/** The only window the session has; every command targets its pane. */
const TARGET = "chat:0.0";
const POLL_MS = 50;

/** One tmux server with one session, private to a test. */
export class TmuxSession {
  readonly dir: string;
  readonly socket: string;
  readonly #statusFile: string;
  #started = false;

  private constructor(dir: string) {
    this.dir = dir;
    this.socket = join(dir, "tmux.sock");
    this.#statusFile = join(dir, "exit-status");
  }

  /**
   * Start `command` in a detached session of `width` x `height` cells, with
   * `env` added to the environment. The pane stays after the program exits
   * (remain-on-exit), so its last screen can still be captured.
   *
   * The program runs under a tiny `sh` that writes its exit status to a file
   * when it ends. tmux's own `#{pane_dead_status}` is not used: tmux 3.3a
   * sometimes leaves an exited pane program unreaped (a zombie, no status)
   * until some later SIGCHLD, which made the exit look like a hang.
   */
  static async start(
    command: string[],
    env: Record<string, string>,
    size: { width: number; height: number } = { width: 100, height: 30 },
  ): Promise<TmuxSession> {
    const dir = await Deno.makeTempDir({ prefix: "chat-tmux-" });
    const session = new TmuxSession(dir);
    try {
      const config = join(dir, "tmux.conf");
      await Deno.writeTextFile(
        config,
        [
          "set-option -g remain-on-exit on",
          "set-option -g status off",
          "set-option -g history-limit 1000",
          "",
        ].join("\n"),
      );
      session.#started = true;
      await session.#tmux([
        "-f",
        config,
        "new-session",
        "-d",
        "-s",
        "chat",
        "-x",
        String(size.width),
        "-y",
        String(size.height),
        "/bin/sh",
        "-c",
        'status_file=$1; shift; "$@"; echo "$?" > "$status_file"',
        "sh",
        session.#statusFile,
        "/usr/bin/env",
        ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        ...command,
      ]);
    } catch (error) {
      await session.kill();
      throw error;
    }
    return session;
  }

  /** Type `text` literally (no key names are interpreted). */
  async sendKeys(text: string): Promise<void> {
    await this.#tmux(["send-keys", "-t", TARGET, "-l", text]);
  }

  /** Press Enter. */
  async enter(): Promise<void> {
    await this.#tmux(["send-keys", "-t", TARGET, "Enter"]);
  }

  /** Press a key by its tmux name, e.g. `C-c`. */
  async key(name: string): Promise<void> {
    await this.#tmux(["send-keys", "-t", TARGET, name]);
  }

  /** Resize the window (the program gets SIGWINCH). */
  async resize(width: number, height: number): Promise<void> {
    await this.#tmux([
      "resize-window",
      "-t",
      TARGET,
      "-x",
      String(width),
      "-y",
      String(height),
    ]);
  }

  /** `await using`: kill the tmux server and remove its directory. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }

  /**
   * The visible screen, one string per row. Spaces the program wrote at the
   * end of a row are kept (`capture-pane -N`), so a prompt's trailing space
   * shows; cells never written (or erased) are not.
   */
  async capture(): Promise<string[]> {
    const out = await this.#tmux(["capture-pane", "-p", "-N", "-t", TARGET]);
    const rows = out.split("\n");
    if (rows.at(-1) === "") rows.pop(); // the newline after the last row
    return rows;
  }

  /** Where the terminal cursor is: 0-based column and row. */
  async cursor(): Promise<{ x: number; y: number }> {
    const out = await this.#tmux([
      "display-message",
      "-p",
      "-t",
      TARGET,
      "#{cursor_x} #{cursor_y}",
    ]);
    const [x, y] = out.trim().split(" ").map(Number);
    return { x: x ?? NaN, y: y ?? NaN };
  }

  /**
   * Poll the screen until `predicate` holds; fail after `ms` with the last
   * screen in the error. Returns the screen that satisfied it.
   */
  async waitForScreen(
    predicate: (rows: string[]) => boolean,
    what: string,
    ms = WAIT_MS,
  ): Promise<string[]> {
    const deadline = Date.now() + ms;
    while (true) {
      const rows = await this.capture();
      if (predicate(rows)) return rows;
      if (Date.now() >= deadline) {
        throw new Error(
          `timed out after ${ms} ms waiting for ${what}; the screen:\n${
            frame(rows)
          }`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /**
   * The pane program's exit status, or null while it still runs. As in a
   * shell, 128 + N means it was killed by signal N.
   */
  async exitStatus(): Promise<number | null> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#statusFile);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
    // the file exists as soon as the shell opens it; complete once "\n" is in
    return text.endsWith("\n") ? Number(text.trim()) : null;
  }

  /** Poll until the pane program exits; fail after `ms`. Resolves its status. */
  async waitForExit(ms = WAIT_MS): Promise<number> {
    const deadline = Date.now() + ms;
    while (true) {
      const status = await this.exitStatus();
      if (status !== null) return status;
      if (Date.now() >= deadline) {
        throw new Error(
          `timed out after ${ms} ms waiting for the program to exit; the screen:\n${
            frame(await this.capture())
          }`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Stop the private tmux server (and with it the pane program); remove the temp dir. */
  async kill(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      await this.#tmux(["kill-server"]).catch(() => {});
    }
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async #tmux(args: string[]): Promise<string> {
    const env = Deno.env.toObject();
    // a test run from inside tmux must not reach the user's server
    delete env.TMUX;
    delete env.TMUX_PANE;
    const out = await new Deno.Command("tmux", {
      args: ["-u", "-S", this.socket, ...args],
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `tmux ${args.join(" ")} failed (exit ${out.code}): ${
          decoder.decode(out.stderr).trim()
        }`,
      );
    }
    return decoder.decode(out.stdout);
  }
}

/** A screen as text, framed so blank rows and trailing spaces show. */
export function frame(rows: string[]): string {
  return rows.map((row) => `|${row}|`).join("\n");
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * Start `chat join --user USER` against `server` as the interactive client
 * in tmux (width x height cells, default 100 x 30) and wait for its ready
 * line and the `#general> ` prompt.
 */
export async function startInteractive(
  server: ServerProcess,
  user: string,
  size: { width: number; height: number } = { width: 100, height: 30 },
): Promise<TmuxSession> {
  const tmux = await TmuxSession.start(
    [
      Deno.execPath(),
      "run",
      "-A",
      MAIN,
      "join",
      "--user",
      user,
      "--server",
      server.address,
      "--ca",
      server.caPath,
    ],
    {
      XDG_CONFIG_HOME: join(server.dir, `home-${user}`),
      NO_COLOR: "1",
      TERM: "xterm-256color",
    },
    size,
  );
  try {
    await tmux.waitForScreen(
      (rows) =>
        rows.some((r) => r.startsWith(`logged in as ${user} `)) &&
        rows.some((r) => r === "#general> "),
      `the ready line and the prompt for ${user}`,
    );
  } catch (error) {
    await tmux.kill();
    throw error;
  }
  return tmux;
}
