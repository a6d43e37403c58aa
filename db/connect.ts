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

/**
 * A postgres.js pool that works behind a transaction pooler (Supavisor on port 6543, PgBouncer in
 * transaction mode): no prepared statements, and no session state. The only startup parameters are
 * the user, the database, client_encoding and application_name, which poolers accept;
 * `statementTimeoutMs` is applied with `set_config(…, true)` (SET LOCAL) inside each transaction,
 * since a pooler refuses it as a startup parameter and a session-level SET would leak to other clients.
 *
 * @example
 *   const sql = openDatabase("postgresql://postgres:pw@db.example.com:6543/postgres", { statementTimeoutMs: 15_000 });
 *   const [row] = await sql`select 1 as one`; // runs as begin; set_config(…); select 1; commit
 */
export function openDatabase(url: string, options: ConnectOptions = {}): Sql {
  try {
    new URL(url);
  } catch {
    throw new DriftGuardError("usage", "the database URL is not a valid URL", "expected postgresql://user:password@host:5432/postgres");
  }
  const pool = postgres(url, {
    // Hosted projects sit behind a transaction pooler, which cannot keep prepared statements.
    prepare: false,
    max: options.max ?? 1,
    idle_timeout: 20,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "drift-guard" },
  });
  return options.statementTimeoutMs ? withTransactionTimeout(pool, options.statementTimeoutMs) : pool;
}

function isTemplate(first: unknown): first is TemplateStringsArray {
  return Array.isArray(first) && Array.isArray((first as unknown as { raw?: unknown }).raw);
}

/**
 * The pool, with every query and every transaction run in a transaction whose first statement sets
 * statement_timeout locally. A query run on its own (`sql\`…\``, `sql.unsafe`) becomes
 * `begin; set_config; query; commit`; `sql.begin` gets the set_config first. Helpers (`sql(name)`)
 * and the rest of the pool's API pass through.
 */
function withTransactionTimeout(pool: Sql, ms: number): Sql {
  const timeout = `${Math.max(1, Math.round(ms))}ms`;
  const setLocal = (tx: postgres.TransactionSql) => tx`select pg_catalog.set_config('statement_timeout', ${timeout}, true)`;
  // set_config is sent without waiting for its answer: the connection runs a transaction's queries
  // in order, so it takes effect before the caller's first query, and saves a round trip.
  const timed = async <T>(tx: postgres.TransactionSql, fn: (tx: postgres.TransactionSql) => T | Promise<T>): Promise<T> => {
    const set = setLocal(tx);
    set.catch(() => {}); // its failure fails the transaction; the caller's query reports it
    const result = await fn(tx);
    await set;
    return result;
  };
  const inTransaction = <T>(query: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> =>
    pool.begin((tx) => timed(tx, query)) as Promise<T>;
  const begin = (...args: unknown[]) => {
    const fn = args.pop() as (tx: postgres.TransactionSql) => unknown;
    const mode = (args[0] as string | undefined) ?? "";
    return pool.begin(mode, (tx) => timed(tx, fn));
  };
  const unsafe = (text: string, params?: unknown[], queryOptions?: postgres.UnsafeQueryOptions) =>
    inTransaction((tx) => tx.unsafe(text, params as postgres.ParameterOrJSON<never>[], queryOptions));
  return new Proxy(pool, {
    apply(target, thisArg, args: unknown[]) {
      if (!isTemplate(args[0])) return Reflect.apply(target, thisArg, args);
      return inTransaction((tx) => (tx as unknown as (...a: unknown[]) => Promise<unknown>)(...args));
    },
    get(target, property, receiver) {
      if (property === "begin") return begin;
      if (property === "unsafe") return unsafe;
      return Reflect.get(target, property, receiver);
    },
  }) as Sql;
}
