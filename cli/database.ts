/** Opens the database for one command and maps every failure to a DriftGuardError. */
import { databaseError, openDatabase, type Sql } from "../db/connect.ts";

export async function withDatabase<T>(url: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = openDatabase(url, { max: 1, applicationName: "drift-guard cli" });
  try {
    return await fn(sql);
  } catch (err) {
    throw databaseError(err, url);
  } finally {
    await sql.end({ timeout: 2 }).catch(() => {});
  }
}
