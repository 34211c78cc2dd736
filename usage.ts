/**
 * What `chat --help` and `chat COMMAND --help` print: the overview and one
 * usage text per command. Text only; main.ts decides when to print it.
 * @module
 */
import { VERSION } from "./version.ts";

/** The commands `chat` has. */
export type CommandName = "serve" | "join" | "id" | "invite" | "servers";

/** `chat --help`: every command in one screen. */
export const MAIN_USAGE =
  `chat ${VERSION} — end-to-end encrypted terminal chat for small teams

Usage:
  chat serve [--host 127.0.0.1] [--port 7443] [--data DIR] [--certs DIR]
             [--name DNS-or-IP ...] [--cert FILE --key FILE]
             [--op FINGERPRINT ...] [--ops-file FILE] [--invite-only]
             [limits: see docs/security.md, e.g. --rate-burst 10 --rate-per-second 2]
  chat join  --user NAME [--server HOST:PORT] [--ca FILE] [--room NAME] [--json]
  chat join  --invite CODE --user NAME       join with an invite (no --server, no --ca)
  chat id    --user NAME [--create]   print your key fingerprint
  chat invite [--uses 1] [--expires 24h] [--data DIR] [--certs DIR] [--server HOST:PORT]
  chat servers                    list servers you have joined
  chat COMMAND --help             usage of one command
  chat --help | --version

serve   Start a TLS server. On first run it creates a local CA and a server
        certificate in --certs (default certs/) and prints the CA file that
        clients pass to --ca. State lives in --data (default data/).
join    Connect, log in with your key (created at your first accepted login,
        under $XDG_CONFIG_HOME/chat or ~/.config/chat) and chat. Type /help
        inside. When stdin is not a terminal, each input line is a message or
        command; --json prints one JSON object per event. After the first join
        the server and its CA are remembered: "chat join --user NAME" reconnects.
invite  Run next to the server: prints a "chat join --invite CODE" line with
        the address, the CA and a single-use secret.

From a clone, every command is a task: npx -y deno@2.9.6 task chat COMMAND …
(or task serve, join, id, invite, servers).
`;

const SERVE = `Usage: chat serve [options]

Start the TLS server and run until Ctrl-C (SIGINT) or SIGTERM. On first run
it creates a local CA and a server certificate in --certs and prints the CA
file clients pass to --ca, and the line they join with. Logs go to stdout,
one timestamped line per event.

Options:
  --host ADDR              listen address (default 127.0.0.1; 0.0.0.0 for all)
  --port N                 port (default 7443; 0 picks a free one)
  --data DIR               database and server.json (default data)
  --certs DIR              local CA and server certificate (default certs)
  --name DNS-or-IP         one more name in the certificate (repeatable)
  --cert FILE --key FILE   your own certificate and key instead of the local CA
  --op FINGERPRINT         an operator's key fingerprint (repeatable)
  --ops-file FILE          operator fingerprints, one per line, # comments
  --invite-only            admit only operators, allowed keys and invites
  --trace-frames FILE      append every received frame (ciphertext) to FILE

Limits (defaults and what happens at each: docs/security.md, Limits):
  --max-frame-bytes N      --max-keys-frame-bytes N   --max-text-bytes N
  --max-queue-bytes N      --login-timeout D          --idle-ping D
  --idle-timeout D         --write-timeout D          --max-connections N
  --max-connections-per-ip N                          --max-failed-logins N
  --rate-burst N           --rate-per-second R
  --input-bytes-per-second N (262144) --input-bytes-burst N (2097152)
  --input-frames-per-second R (50)    --input-frames-burst N (200)
                           what one connection may send; over it: input_flood
  --flood-penalty D (10s)  an address cut off for input_flood waits this long
  --max-handshakes N (2048) --max-handshakes-per-prefix N (64, per /24 or /64)
  --min-handshake-timeout D (1s)  handshake deadline when handshakes pile up
  --frame-rate CLASS=BURST/R  per-user rate of other frames (repeatable;
                           classes: membership dm keys history lookup list
                           ping mod allow_dm wraps), e.g. history=200/20
  --open-dms               anyone may open a DM with anyone (default: only
                           people who share a room, or who /allow-dm'd you)
  --retain D               delete messages stored longer ago than D (e.g. 90d;
                           default: keep everything)
  --quota KIND=ROWS/SIZE   cap stored data (repeatable; kinds: user-messages
                           user-wraps room-messages room-wraps), e.g.
                           user-messages=100000/64MiB; over it: quota_exceeded
  (D is a duration such as 10s, 2m or 1h)
`;

const JOIN =
  `Usage: chat join --user NAME [--server HOST:PORT] [--ca FILE] [--room NAME] [--json]
       chat join --invite CODE --user NAME [--room NAME] [--json]

Connect over TLS, log in with NAME's key and chat. Type /help inside.

Options:
  --user NAME         your name: letters, digits, '_' and '-', up to 32
  --server HOST:PORT  the server (default: the one NAME used last, else the
                      one joined last, else localhost:7443)
  --ca FILE           the server's CA certificate (the ca.pem chat serve
                      printed); remembered with the server after a join
  --invite CODE       an invite from chat invite: it carries the server and
                      its CA, so no --server and no --ca
  --room NAME         the room to start in (default general)
  --json              one JSON object per event on stdout (for scripts)
  --escape            with --json: control, bidi and zero-width characters in
                      every string become \\uXXXX text (default: exact text)

NAME's keys are created at the first login the server accepts, under
$XDG_CONFIG_HOME/chat (else ~/.config/chat). When stdin is not a terminal,
each input line is a message or a /command, and the program exits once the
server has answered everything it sent.
`;

const ID = `Usage: chat id --user NAME [--create]

Print NAME's key fingerprint (64 hex digits), e.g. for a server operator's
--op or /allow. Only keys that exist are shown: chat join creates them at
the first accepted login.

Options:
  --user NAME   whose fingerprint
  --create      create NAME's keys first if there are none (to give your
                fingerprint to the operator of an invite-only server)
`;

const INVITE =
  `Usage: chat invite [--uses 1] [--expires 24h] [--data DIR] [--certs DIR] [--server HOST:PORT]

Run next to a running server (same --data and --certs): records an invite
in its database and prints the join line to send to one person.

Options:
  --uses N            how many logins may use it (1-1000, default 1)
  --expires D         how long it is valid (default 24h; e.g. 30m, 7d)
  --data DIR          the server's --data (default data)
  --certs DIR         the server's --certs (default certs)
  --server HOST:PORT  the address clients dial (default: what the server
                      recorded in DIR/server.json)
`;

const SERVERS = `Usage: chat servers

List the servers joined from this config directory ($XDG_CONFIG_HOME/chat,
else ~/.config/chat): address, CA fingerprint, last use and user names.
`;

/** `chat COMMAND --help`, per command. */
export const COMMAND_USAGE: Readonly<Record<CommandName, string>> = {
  serve: SERVE,
  join: JOIN,
  id: ID,
  invite: INVITE,
  servers: SERVERS,
};

/** True when `name` is one of the commands. */
export function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMAND_USAGE, name);
}
