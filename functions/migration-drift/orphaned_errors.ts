/**
 * postgres.js fetches array types when it connects, without awaiting that query:
 * when it fails (a tiny statement_timeout, a restart), the same error also fails
 * the query that opened the connection, and that request answers 503. The copy
 * nobody awaits must not end the process (Deno's default for an unhandled
 * rejection), or one slow query would take every caller down with it.
 */
import { sqlState } from "../../db/database_error.ts";

let installed = false;

/**
 * Drops unhandled rejections that carry a SQLSTATE or socket code; others keep Deno's default.
 * @example keepServingAfterOrphanedDatabaseErrors(); Deno.serve(app);
 */
export function keepServingAfterOrphanedDatabaseErrors(): void {
  if (installed) return;
  installed = true;
  globalThis.addEventListener("unhandledrejection", (event) => {
    if (!sqlState(event.reason)) return;
    event.preventDefault();
    console.error("migration-drift: a database error nobody awaited:", sqlState(event.reason));
  });
}
