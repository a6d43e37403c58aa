/**
 * The function's database: one small postgres.js pool, opened on first use and
 * reused across requests. A pool whose connections failed is thrown away, so the
 * next request starts fresh when the database is back. Every failure becomes a
 * DriftGuardError whose message names no host, URL, password or SQL text.
 */
import { openDatabase, type Sql } from "../../db/connect.ts";
import { databaseError, isConnectionLoss } from "../../db/database_error.ts";
import { DriftGuardError } from "../../shared/types.ts";

export interface Database {
  run<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  max?: number;
  connectTimeoutSeconds?: number;
  statementTimeoutMs?: number;
}

export function lazyDatabase(url: string | undefined, options: DatabaseOptions = {}): Database {
  let pool: Sql | null = null;

  const open = (): Sql => {
    if (!url) {
      throw new DriftGuardError("unreachable", "the function has no database configured", "set the SUPABASE_DB_URL secret (it is set automatically when hosted)");
    }
    try {
      return openDatabase(url, { applicationName: "drift-guard function", ...options, max: options.max ?? 3 });
    } catch {
      throw new DriftGuardError("unreachable", "the function's database URL is not valid", "check the SUPABASE_DB_URL secret");
    }
  };

  const discard = (dead: Sql) => {
    if (pool === dead) pool = null;
    dead.end({ timeout: 0 }).catch(() => {});
  };

  return {
    async run(fn) {
      const sql = pool ??= open();
      try {
        return await fn(sql);
      } catch (err) {
        if (isConnectionLoss(err)) discard(sql);
        const safe = databaseError(err);
        if (safe.code === "internal") console.error("migration-drift: database error", (err as { code?: string })?.code ?? err);
        throw safe;
      }
    },
    async close() {
      const current = pool;
      pool = null;
      await current?.end({ timeout: 1 }).catch(() => {});
    },
  };
}
