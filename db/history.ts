/** Reads supabase_migrations.schema_migrations in one round trip. */
import type { RemoteMigration } from "../shared/types.ts";
import type { Sql } from "./connect.ts";

/** The history rows, or null when the table does not exist yet (nothing has been pushed). */
export async function readHistory(sql: Sql): Promise<RemoteMigration[] | null> {
  // Old CLI versions created the table with the version column only. No columns: no table.
  const columns = await sql<{ column_name: string }[]>`
    select attname as column_name from pg_catalog.pg_attribute
    where attrelid = to_regclass('supabase_migrations.schema_migrations') and attnum > 0 and not attisdropped`;
  if (columns.length === 0) return null;
  const has = new Set(columns.map((c) => c.column_name));
  const rows = await sql.unsafe<{ version: string; name: string | null; statements: string[] | null }[]>(
    `select version, ${has.has("name") ? "name" : "null::text as name"}, ` +
      `${has.has("statements") ? "statements" : "null::text[] as statements"} ` +
      `from supabase_migrations.schema_migrations`,
  );
  return rows.map((r) => ({ version: r.version, name: r.name, statements: r.statements }));
}
