/** Reads supabase_migrations.schema_migrations with as little transfer as possible. */
import { sha256Hex, statementsEncoding } from "../shared/checksum.ts";
import type { RemoteMigration } from "../shared/types.ts";
import type { Sql } from "./connect.ts";

/** SQL twin of statementsEncoding() in shared/checksum.ts. */
const STATEMENTS_ENCODING = `pg_catalog.cardinality(m.statements)::text || '[' || coalesce((
    select pg_catalog.string_agg(pg_catalog.octet_length(pg_catalog.convert_to(s.e, 'UTF8'))::text || ':' || s.e, '' order by s.o)
    from pg_catalog.unnest(m.statements) with ordinality as s(e, o)), '') || ']'`;

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
  // Old CLI versions created the table with the version column only. No columns: no table.
  const columns = await sql<{ column_name: string }[]>`
    select attname as column_name from pg_catalog.pg_attribute
    where attrelid = pg_catalog.to_regclass('supabase_migrations.schema_migrations') and attnum > 0 and not attisdropped`;
  if (columns.length === 0) return null;
  const has = new Set(columns.map((c) => c.column_name));
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
