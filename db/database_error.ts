/**
 * The one translation of database and socket failures into DriftGuardError.
 * The CLI passes the database URL, so messages name host:port/database (never
 * the password); the function passes none, so its messages name no host. The
 * original error is kept as `cause`; its text (which may quote SQL) is never
 * put in a message, except our own drift_guard SQL's DG* messages, which we wrote.
 */
import { DriftGuardError, type ErrorCode } from "../shared/types.ts";

/** Socket and server codes that mean "the database is not there right now" (not "your request is wrong"). */
export const CONNECTION_LOST_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN", "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "EPIPE", "ENETUNREACH", "ECONNABORTED",
  "57P01", "57P02", "57P03", "53300", "08000", "08003", "08006", "08001", "08004",
]);

/** SQLSTATEs that mean an object of the drift_guard schema is missing: schema, table, function. */
const NOT_INSTALLED_CODES: ReadonlySet<string> = new Set(["3F000", "42P01", "42883"]);

/**
 * Messages by which a connection pooler (PgBouncer, Supavisor) says why it refused: their SQLSTATE is
 * 08P01 (PgBouncer) or XX000 (Supavisor), which alone would read as a protocol bug or an internal error.
 */
const POOLER_REFUSALS: ReadonlyArray<{ pattern: RegExp; cause: (m: RegExpExecArray) => string; hint: string }> = [
  {
    pattern: /unsupported startup parameter(?:[^a-z_]+([a-z_.]{1,63}))?/i,
    cause: (m) => `refused the startup parameter ${m[1] ? `"${m[1]}"` : "sent by the client"} (a transaction pooler keeps no session settings)`,
    hint: "remove session settings (?options=…) from the database URL, or connect directly or through the session pooler (port 5432)",
  },
  {
    pattern: /no more connections allowed|max_client_conn|max clients reached|max client connections|too many (client )?connections|EMAXCONN/i,
    cause: () => "has no free connections",
    hint: "retry shortly; if it persists, raise the pooler's pool size or close idle clients",
  },
  {
    pattern: /tenant or user not found|no such (user|database)|password authentication failed|SASL authentication failed|auth failed/i,
    cause: () => "rejected the login",
    hint: "check the user (postgres.<project-ref> for Supavisor), the password and the database name in the URL",
  },
  {
    pattern: /pgbouncer|supavisor|pooler|server conn crashed|server_login_retry|query_wait_timeout|client_idle_timeout|server closed the connection unexpectedly/i,
    cause: () => "closed or refused the connection",
    hint: "retry shortly; if it persists, check the pooler, or connect directly (port 5432)",
  },
];

/** The SQLSTATE (or socket code) of an error, "" when it has none. */
export function sqlState(err: unknown): string {
  const e = err as { code?: unknown; errno?: unknown } | null;
  return String(e?.code ?? e?.errno ?? "");
}

/** True when a pool's connection is gone and the pool should be replaced. */
export function isConnectionLoss(err: unknown): boolean {
  return CONNECTION_LOST_CODES.has(sqlState(err));
}

/** host:port/database of a URL, for messages. Never includes the user's password. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}${u.pathname || "/postgres"}`;
  } catch {
    return "(unparseable database URL)";
  }
}

/**
 * Our error for any failure of a database call.
 * @example
 *   try { await sql`select 1` } catch (err) { throw databaseError(err, url) }
 *   // 57014 -> statement_timeout (exit 3, HTTP 503): "… statement timeout …"
 */
export function databaseError(err: unknown, url?: string): DriftGuardError {
  if (err instanceof DriftGuardError) return err;
  const at = url ? ` at ${describeTarget(url)}` : "";
  const e = (err ?? {}) as { message?: unknown; hint?: unknown };
  const message = String(e.message ?? "");
  const code = sqlState(err);
  const make = (c: ErrorCode, text: string, hint?: string) => new DriftGuardError(c, text, hint, { cause: err });

  if (code === "08P01" || code === "XX000") {
    // A connection pooler's refusal. The message matched is the pooler's, never a query's; only the
    // parameter name (letters and underscores) is quoted from it.
    for (const refusal of POOLER_REFUSALS) {
      const m = refusal.pattern.exec(message);
      if (m) return make("unreachable", `the connection pooler in front of the database${at} ${refusal.cause(m)} (SQLSTATE ${code})`, refusal.hint);
    }
    if (code === "08P01") {
      return make("unreachable", `the database${at} or a connection pooler in front of it broke off the connection (protocol violation, SQLSTATE 08P01)`,
        "if the URL points at a transaction pooler (port 6543), retry or connect directly (port 5432); re-run with DRIFT_GUARD_DEBUG=1 to see the server's message");
    }
  }
  if (code === "26000" && /prepared statement/i.test(message)) {
    return make("unreachable", `a prepared statement was lost between transactions${at} (SQLSTATE 26000): a transaction pooler is between drift-guard and the database`,
      "retry; if it persists, connect directly or through the session pooler (port 5432)");
  }
  switch (code) {
    // Raised by our own SQL (supabase/migrations/*drift_guard*.sql): the message is ours.
    case "DGM01":
      return make("digest_mismatch", `the history changed since the plan was made: ${message}`, "run the repair again without --apply to see the new plan");
    case "DGL01":
      return make("lock_held", `another repair holds the lock: ${message}`, "wait for it to finish, then plan again");
    case "DGI01":
      return make("bad_input", message, typeof e.hint === "string" ? e.hint : undefined);
    case "DGN01":
      return make("not_found", message, typeof e.hint === "string" ? e.hint : "drift-guard audit lists the audit ids");
    case "DGA01":
    case "DGX01":
      return make("internal", message);
    case "28P01":
    case "28000":
      return make("unreachable", `cannot authenticate to the database${at}: password authentication failed`,
        url ? "check the user and password in the database URL" : "check the function's SUPABASE_DB_URL secret");
    case "3D000":
      return make("unreachable", `cannot connect to the database${at}: the database does not exist`,
        url ? "check the database name in the URL" : "check the function's SUPABASE_DB_URL secret");
    case "57P01":
    case "57P02":
    case "57P03":
    case "53300":
      return make("unreachable", `the database${at} is shutting down or not accepting connections`, "retry when it is back");
    case "57014":
      return /statement timeout/i.test(message)
        ? make("statement_timeout", `the database${at} cancelled a query at its statement timeout (statement_timeout)`,
          "raise statement_timeout for this role or connection (e.g. ?options=-c%20statement_timeout%3D60s), or retry when the database is less busy")
        : make("statement_timeout", `the database${at} cancelled a query (statement timeout or an administrator's cancel request)`, "retry; check statement_timeout for this role");
    case "55P03":
      return make("statement_timeout", `the database${at} gave up waiting for a lock (lock_timeout)`, "retry when the other transaction has finished, or raise lock_timeout");
    case "25P03":
      return make("statement_timeout", `the database${at} closed an idle transaction (idle_in_transaction_session_timeout)`, "retry");
    case "42501":
      return make("insufficient_privilege", `permission denied${at}: ${url ? privilegeDetail(message) : "the database user lacks a privilege drift-guard needs"}`,
        "connect as the postgres user, or grant the privilege named above");
    case "P0001":
      return make("bad_input", `the database rejected the change: ${message}`);
  }
  if (NOT_INSTALLED_CODES.has(code)) {
    return notInstalled("drift_guard", err);
  }
  if (CONNECTION_LOST_CODES.has(code)) {
    return make("unreachable", `cannot reach the database${at} (${code.toLowerCase().replace(/_/g, " ")})`,
      url ? "check the host and port, and that the database is running" : "retry shortly; if it persists, check the project's database");
  }
  if (/^22[0-9A-Z]{3}$/.test(code)) {
    // Data exceptions: a value the database cannot store or parse (NUL, bad uuid, bad encoding).
    return make("bad_input", `the database rejected a value in the request (SQLSTATE ${code})`, "check the input for NUL characters or malformed ids");
  }
  if (code === "54000") return make("bad_input", `the request is larger than the database accepts (SQLSTATE ${code})`);
  if (code === "40001" || code === "40P01") {
    return make("lock_held", `a concurrent transaction conflicted with this one${at} (SQLSTATE ${code}); nothing was changed`, "retry");
  }
  if (/^53[0-9A-Z]{3}$/.test(code)) return make("unreachable", `the database${at} is out of resources (SQLSTATE ${code})`, "retry when it has recovered");
  if (/^[0-9A-Z]{5}$/.test(code)) {
    return make("internal", `unexpected database error${at} (SQLSTATE ${code})`, "re-run with DRIFT_GUARD_DEBUG=1 to see the server's message");
  }
  if (err instanceof TypeError && /connect|network|socket|fetch/i.test(message)) return make("unreachable", `cannot reach the database${at} (network error)`, "retry shortly");
  return make("internal", `unexpected error: ${err instanceof Error ? err.name : typeof err}`, "re-run with DRIFT_GUARD_DEBUG=1 and report it");
}

/** Keeps only the "permission denied for …" clause of a server message: it names the object, not any SQL. */
function privilegeDetail(message: string): string {
  const m = /permission denied for [^\n]*/.exec(message);
  return m ? m[0] : "insufficient privilege";
}

/**
 * The one "not installed" error: `part` (the drift_guard schema, or the DDL ledger) is
 * missing from this database, and `drift-guard install` adds it.
 *
 * @example throw notInstalled("the DDL ledger") // "the DDL ledger is not installed in this database: run drift-guard install"
 */
export function notInstalled(part: "drift_guard" | "the DDL ledger", cause?: unknown): DriftGuardError {
  return new DriftGuardError("not_installed", `${part} is not installed in this database: run drift-guard install`, "drift-guard install --db-url …", { cause });
}
