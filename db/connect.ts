/**
 * The database connection both adapters (the CLI and the edge function) use.
 * Errors are rewritten into DriftGuardError so that no password, URL or SQL
 * text from the server ever reaches a user or an HTTP body.
 */
import postgres from "postgres";
import { DriftGuardError } from "../shared/types.ts";

export type Sql = postgres.Sql;

export interface ConnectOptions {
  /** Pool size. The CLI needs 1; the function keeps a few warm. */
  max?: number;
  applicationName?: string;
  connectTimeoutSeconds?: number;
  statementTimeoutMs?: number;
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

export function openDatabase(url: string, options: ConnectOptions = {}): Sql {
  try {
    new URL(url);
  } catch {
    throw new DriftGuardError("usage", "the database URL is not a valid URL", "expected postgresql://user:password@host:5432/postgres");
  }
  return postgres(url, {
    // Hosted projects sit behind a transaction pooler, which cannot keep prepared statements.
    prepare: false,
    max: options.max ?? 1,
    idle_timeout: 20,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    onnotice: () => {},
    connection: {
      application_name: options.applicationName ?? "drift-guard",
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    },
  });
}

/** Socket and server codes that mean "the database is not there right now" (not "your request is wrong"). */
export const CONNECTION_LOST_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN", "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "EPIPE", "ENETUNREACH", "ECONNABORTED",
  "57P01", "57P02", "57P03", "53300", "08000", "08003", "08006", "08001", "08004",
]);

/** Turns a postgres.js / socket error into our error, naming the host and never the password. */
export function databaseError(err: unknown, url: string): DriftGuardError {
  if (err instanceof DriftGuardError) return err;
  const target = describeTarget(url);
  const e = err as { code?: string; errno?: string; message?: string; routine?: string };
  const code = e?.code ?? e?.errno ?? "";
  switch (code) {
    case "28P01":
    case "28000":
      return new DriftGuardError("unreachable", `cannot authenticate to ${target}: password authentication failed`, "check the user and password in the database URL");
    case "3D000":
      return new DriftGuardError("unreachable", `cannot connect to ${target}: the database does not exist`, "check the database name in the URL");
    case "57P01":
    case "57P02":
    case "57P03":
    case "53300":
      return new DriftGuardError("unreachable", `the database at ${target} is shutting down or not accepting connections`, "retry when it is back");
    case "42501":
      return new DriftGuardError("insufficient_privilege", `permission denied on ${target}: ${privilegeDetail(e.message)}`, "connect as the postgres user, or grant the privilege named above");
    case "P0001":
      return new DriftGuardError("bad_input", String(e.message));
  }
  if (CONNECTION_LOST_CODES.has(code)) {
    return new DriftGuardError("unreachable", `cannot reach the database at ${target} (${code.toLowerCase().replace(/_/g, " ")})`, "check the host and port, and that the database is running");
  }
  return new DriftGuardError("unreachable", `database error from ${target} (${code || "unknown"})`, "re-run with DRIFT_GUARD_DEBUG=1 to see the server's message");
}

/** Keeps only the "permission denied for …" clause of a server message: it names the object, not any SQL. */
function privilegeDetail(message = ""): string {
  const m = /permission denied for [^\n]*/.exec(message);
  return m ? m[0] : "insufficient privilege";
}
