/** Reads supabase_migrations.schema_migrations with as little transfer as possible. */
import { sha256Hex, statementsChecksum, statementsEncoding } from "../shared/checksum.ts";
import type { RemoteMigration } from "../shared/types.ts";
import type { Sql } from "./connect.ts";
import { sqlState } from "./database_error.ts";

/**
 * SQL twin of statementsEncoding() in shared/checksum.ts: `count` is the array's length,
 * `elements` a set-returning call that yields its strings in order.
 */
const statementsEncodingSql = (count: string, elements: string) =>
  `${count}::text || '[' || coalesce((
    select pg_catalog.string_agg(pg_catalog.octet_length(pg_catalog.convert_to(s.e, 'UTF8'))::text || ':' || s.e, '' order by s.o)
    from ${elements} with ordinality as s(e, o)), '') || ']'`;

/** sha256 (hex) of an encoding, as statementsHash() below computes it. */
const sha256HexSql = (text: string) => `pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(${text}, 'UTF8')), 'hex')`;

/** The hash of a history row's statements (text[]). */
const HISTORY_STATEMENTS_HASH = sha256HexSql(statementsEncodingSql("pg_catalog.cardinality(m.statements)", "pg_catalog.unnest(m.statements)"));

/**
 * The same hash for a jsonb array of strings (`expr`), as a stored manifest holds them:
 * what readHistory compares a history row's hash with.
 */
export const jsonbStatementsHash = (expr: string) =>
  sha256HexSql(statementsEncodingSql(`pg_catalog.jsonb_array_length(${expr})`, `pg_catalog.jsonb_array_elements_text(${expr})`));

/** The history table's columns, or null when it does not exist. Old CLI versions created it with `version` only. */
async function historyColumns(sql: Sql): Promise<Set<string> | null> {
  const columns = await sql<{ name: string }[]>`
    select attname as name from pg_catalog.pg_attribute
    where attrelid = pg_catalog.to_regclass('supabase_migrations.schema_migrations') and attnum > 0 and not attisdropped`;
  return columns.length ? new Set(columns.map((c) => c.name)) : null;
}

/** A warm edge function sees the same manifest arrays on every request: hash each once. */
const hashCache = new WeakMap<readonly string[], string>();
function statementsHash(statements: readonly string[]): string {
  let hash = hashCache.get(statements);
  if (hash === undefined) {
    hash = sha256Hex(statementsEncoding(statements));
    hashCache.set(statements, hash);
  }
  return hash;
}

/** Statements we already have, and their hash when it is known without them (LocalMigration.statementsHash). */
export interface KnownStatements {
  statements: readonly string[];
  hash?: string;
}

/** The local migrations' statements by version: what readHistory need not transfer. */
export function knownStatements(local: ReadonlyArray<{ version: string; statements: readonly string[]; statementsHash?: string }>): Map<string, KnownStatements> {
  return new Map(local.map((m) => [m.version, { statements: m.statements, hash: m.statementsHash }]));
}

/**
 * The history rows, or null when the table does not exist yet.
 *
 * `known` holds the statements we already have (the local files). The server
 * sends a hash of each row's statements, and the arrays themselves only for
 * rows whose hash differs: an in-sync history of thousands of migrations costs
 * hashes, not megabytes. Rows that match get the known array itself.
 */
export async function readHistory(sql: Sql, known: ReadonlyMap<string, KnownStatements> = new Map()): Promise<RemoteMigration[] | null> {
  let rows: Array<{ version: string; name: string | null; hash: string | null }>;
  try {
    rows = await sql.unsafe(
      `select m.version, m.name, case when m.statements is not null then ${HISTORY_STATEMENTS_HASH} end as hash
       from supabase_migrations.schema_migrations m`,
    );
  } catch (err) {
    const code = sqlState(err);
    if (code === "42P01" || code === "3F000") return null; // no table (or schema): nothing was pushed yet, not "not installed"
    if (code === "42703") return await readLegacyHistory(sql); // a table from an old CLI
    throw err;
  }
  const missing = rows.filter((r) => {
    const k = known.get(r.version);
    return r.hash !== null && (k === undefined || (k.hash ?? statementsHash(k.statements)) !== r.hash);
  }).map((r) => r.version);
  const fetched = new Map<string, string[]>();
  if (missing.length) {
    const extra = await sql<{ version: string; statements: string[] }[]>`
      select version, statements from supabase_migrations.schema_migrations where version = any(${missing})`;
    for (const r of extra) fetched.set(r.version, r.statements);
  }
  return rows.map((r) => ({
    version: r.version,
    name: r.name,
    statements: r.hash === null ? null : fetched.get(r.version) ?? (known.get(r.version)!.statements as string[]),
  }));
}

/** Old CLI versions created the table with `version` only; later ones added the other columns. */
async function readLegacyHistory(sql: Sql): Promise<RemoteMigration[] | null> {
  const has = await historyColumns(sql);
  if (!has) return null;
  const rows = await sql.unsafe<{ version: string; name: string | null; statements: string[] | null }[]>(
    `select m.version, ${has.has("name") ? "m.name" : "null::text"} as name,
            ${has.has("statements") ? "m.statements" : "null::text[]"} as statements
     from supabase_migrations.schema_migrations m`,
  );
  return rows.map((r) => ({ version: r.version, name: r.name, statements: r.statements }));
}

export interface HistoryRow {
  version: string;
  name: string | null;
  statements: string[] | null;
  checksum: string | null;
}

/** One row of supabase_migrations.schema_migrations, statements included; null when absent (or no table yet). */
export async function readHistoryRow(sql: Sql, version: string): Promise<HistoryRow | null> {
  const has = await historyColumns(sql);
  if (!has) return null;
  const [row] = await sql.unsafe<{ version: string; name: string | null; statements: string[] | null }[]>(
    `select version, ${has.has("name") ? "name" : "null::text as name"}, ` +
      `${has.has("statements") ? "statements" : "null::text[] as statements"} ` +
      `from supabase_migrations.schema_migrations where version = $1`,
    [version],
  );
  if (!row) return null;
  return { ...row, checksum: row.statements === null ? null : statementsChecksum(row.statements) };
}
