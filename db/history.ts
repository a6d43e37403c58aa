/** Reads supabase_migrations.schema_migrations with as little transfer as possible. */
import { sha256Hex, statementsChecksum, statementsEncoding } from "../shared/checksum.ts";
import type { RemoteMigration } from "../shared/types.ts";
import type { Sql } from "./connect.ts";

/** SQL twin of statementsEncoding() in shared/checksum.ts. */
const STATEMENTS_ENCODING = `pg_catalog.cardinality(m.statements)::text || '[' || coalesce((
    select pg_catalog.string_agg(pg_catalog.octet_length(pg_catalog.convert_to(s.e, 'UTF8'))::text || ':' || s.e, '' order by s.o)
    from pg_catalog.unnest(m.statements) with ordinality as s(e, o)), '') || ']'`;

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

/**
 * The history rows, or null when the table does not exist yet.
 *
 * `known` holds the statements we already have (the local files). The server
 * hashes each row's statements and sends the array only when it differs, so an
 * in-sync history of thousands of migrations costs hashes, not megabytes.
 * Rows that match get the known array itself: same content, no copy.
 */
export async function readHistory(sql: Sql, known: ReadonlyMap<string, readonly string[]> = new Map()): Promise<RemoteMigration[] | null> {
  const has = await historyColumns(sql);
  if (!has) return null;
  const name = has.has("name") ? "m.name" : "null::text";
  if (!has.has("statements")) {
    const rows = await sql.unsafe<{ version: string; name: string | null }[]>(
      `select m.version, ${name} as name from supabase_migrations.schema_migrations m`,
    );
    return rows.map((r) => ({ version: r.version, name: r.name, statements: null }));
  }
  const hashes: Record<string, string> = {};
  for (const [version, statements] of known) hashes[version] = statementsHash(statements);
  const rows = await sql.unsafe<{ version: string; name: string | null; matched: boolean; statements: string[] | null }[]>(
    `with k as (select key as version, value as hash from pg_catalog.jsonb_each_text($1::text::jsonb))
     select m.version, ${name} as name, x.matched, case when x.matched then null else m.statements end as statements
     from supabase_migrations.schema_migrations m
     left join k on k.version = m.version
     cross join lateral (select m.statements is not null and k.hash is not null and
       k.hash = pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(${STATEMENTS_ENCODING}, 'UTF8')), 'hex') as matched) x`,
    [JSON.stringify(hashes)],
  );
  return rows.map((r) => ({
    version: r.version,
    name: r.name,
    statements: r.matched ? (known.get(r.version) as string[]) : r.statements,
  }));
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
