/**
 * The moderation half of the SQLite engine (sanctions, the allowlist,
 * settings, invites) and what both halves share: the database, its
 * prepared statements, and the wrapper that turns a database failure into
 * a StoreError. SqliteHistoryStore extends it with users, rooms, keys and
 * messages.
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type {
  InviteRedemption,
  ModerationStore,
  Sanction,
} from "./moderation_store.ts";
import type { Statements } from "./sqlite_schema.ts";
import { storeError, transaction } from "./sqlite_commit.ts";
import { type Row, toSanction } from "./sqlite_rows.ts";

/** ModerationStore on one SQLite connection, and the base of the whole store. */
export class SqliteModeration implements ModerationStore {
  /** The open connection. */
  protected readonly db: DatabaseSync;
  /** Its prepared statements. */
  protected readonly sql: Statements;

  /** Moderation over `db` and its statements. */
  constructor(db: DatabaseSync, sql: Statements) {
    this.db = db;
    this.sql = sql;
  }

  /** Run synchronous database work as a promise; failures become rejected StoreErrors. */
  protected run<T>(what: string, work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (cause) {
      return Promise.reject(storeError(what, cause));
    }
  }

  /** `work` in one transaction, through run. */
  protected inTransaction<T>(what: string, work: () => T): Promise<T> {
    return this.run(what, () => transaction(this.db, work));
  }

  setSanction(s: Sanction): Promise<void> {
    return this.run("storing a sanction", () => {
      this.sql.setSanction.run(
        s.fingerprint,
        s.kind,
        s.until,
        s.reason,
        s.by,
        s.createdAt,
      );
    });
  }

  removeSanction(fingerprint: string, kind: "ban" | "mute"): Promise<boolean> {
    return this.run(
      "lifting a sanction",
      () => this.sql.removeSanction.run(fingerprint, kind).changes > 0,
    );
  }

  getSanction(
    fingerprint: string,
    kind: "ban" | "mute",
  ): Promise<Sanction | null> {
    return this.run("reading a sanction", () => {
      const row = this.sql.getSanction.get(fingerprint, kind) as
        | Row
        | undefined;
      return row ? toSanction(row) : null;
    });
  }

  allow(fingerprint: string, by: string, at: number): Promise<void> {
    return this.run("allowing a key", () => {
      this.sql.allow.run(fingerprint, by, at);
    });
  }

  isAllowed(fingerprint: string): Promise<boolean> {
    return this.run(
      "reading the allowlist",
      () => !!this.sql.isAllowed.get(fingerprint),
    );
  }

  getSetting(key: string): Promise<string | null> {
    return this.run("reading a setting", () => {
      const row = this.sql.getSetting.get(key) as Row | undefined;
      return row ? String(row.value) : null;
    });
  }

  setSetting(key: string, value: string): Promise<void> {
    return this.run("storing a setting", () => {
      this.sql.setSetting.run(key, value);
    });
  }

  createInvite(
    hash: string,
    uses: number,
    expiresAt: number,
    createdAt: number,
  ): Promise<void> {
    return this.run("storing an invite", () => {
      this.sql.createInvite.run(hash, uses, expiresAt, createdAt);
    });
  }

  redeemInvite(hash: string, now: number): Promise<InviteRedemption> {
    return this.inTransaction("redeeming an invite", (): InviteRedemption => {
      const row = this.sql.getInvite.get(hash) as Row | undefined;
      if (!row) return "unknown";
      if (Number(row.expires_at) <= now) return "expired";
      if (Number(row.uses_left) <= 0) return "used";
      this.sql.useInvite.run(hash);
      return "ok";
    });
  }

  restoreInvite(hash: string): Promise<void> {
    return this.run("restoring an invite", () => {
      this.sql.restoreInvite.run(hash);
    });
  }
}
