/** Opens the database for one command and maps every failure to a DriftGuardError. */
import { inspect } from "node:util";
import type { Sql } from "../db/connect.ts";
import { databaseError } from "../db/database_error.ts";
import type { CliDeps } from "./deps.ts";

/**
 * Runs `fn` with a one-connection pool, ended afterwards; `applicationName` is what
 * pg_stat_activity and the DDL ledger call the connection.
 * @example await withDatabase(deps, url, (sql) => sql`select 1`)
 */
export async function withDatabase<T>(deps: Pick<CliDeps, "openDatabase" | "env" | "stderr">, url: string, fn: (sql: Sql) => Promise<T>, applicationName = "drift-guard cli"): Promise<T> {
  const sql = deps.openDatabase(url, { max: 1, applicationName });
  try {
    return await fn(sql);
  } catch (err) {
    // The raw server message may quote SQL; only show it when asked to.
    if (deps.env.DRIFT_GUARD_DEBUG) deps.stderr.write(inspect(err) + "\n");
    throw databaseError(err, url);
  } finally {
    await sql.end({ timeout: 2 }).catch(() => {});
  }
}
