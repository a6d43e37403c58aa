/**
 * The function's database: one small postgres.js pool, opened on first use and
 * reused across requests. A pool whose connections failed is thrown away, so the
 * next request starts fresh when the database is back. Every failure becomes a
 * DriftGuardError whose message names no host, URL, password or SQL text.
 */
import { CONNECTION_LOST_CODES, openDatabase, type Sql } from "../../db/connect.ts";
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

const unreachable = (why: string) =>
  new DriftGuardError("unreachable", `the database is unreachable (${why})`, "retry shortly; if it persists, check the project's database");

/** A database failure as the HTTP API may tell it. */
export function safeDatabaseError(err: unknown): DriftGuardError {
  if (err instanceof DriftGuardError) return err;
  const e = err as { code?: unknown; errno?: unknown; message?: unknown };
  const code = String(e?.code ?? e?.errno ?? "");
  if (CONNECTION_LOST_CODES.has(code)) return unreachable(code.toLowerCase().replace(/_/g, " "));
  if (code === "28P01" || code === "28000" || code === "3D000") {
    return new DriftGuardError("unreachable", "the function cannot log in to its database", "check the function's SUPABASE_DB_URL secret");
  }
  if (code === "57014") return unreachable("a query ran past the statement timeout");
  if (code === "42501") {
    return new DriftGuardError("insufficient_privilege", "the function's database user lacks a privilege drift-guard needs", "connect as the postgres user, or run drift-guard install again");
  }
  if (/^DG[A-Z0-9]{3}$/.test(code)) return new DriftGuardError("internal", String(e.message)); // our own SQL's message
  if (/^[0-9A-Z]{5}$/.test(code)) return new DriftGuardError("internal", `unexpected database error (SQLSTATE ${code})`);
  if (err instanceof TypeError && /connect|network|socket/i.test(String(e.message))) return unreachable("network error");
  return new DriftGuardError("internal", "unexpected error");
}

function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown };
  return CONNECTION_LOST_CODES.has(String(e?.code ?? e?.errno ?? ""));
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
        const safe = safeDatabaseError(err);
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
