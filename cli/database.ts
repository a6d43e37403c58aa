/** Opens the database for one command and maps every failure to a DriftGuardError. */
import process from "node:process";
import { openDatabase, type Sql } from "../db/connect.ts";
import { databaseError } from "../db/database_error.ts";

export async function withDatabase<T>(url: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = openDatabase(url, { max: 1, applicationName: "drift-guard cli" });
  try {
    return await fn(sql);
  } catch (err) {
    // The raw server message may quote SQL; only show it when asked to.
    if (process.env.DRIFT_GUARD_DEBUG) console.error(err);
    throw databaseError(err, url);
  } finally {
    await sql.end({ timeout: 2 }).catch(() => {});
  }
}
