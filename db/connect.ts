/**
 * The database connection both adapters (the CLI and the edge function) use.
 * Their failures become DriftGuardError in database_error.ts, so that no
 * password, URL or SQL text from the server ever reaches a user or an HTTP body.
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
