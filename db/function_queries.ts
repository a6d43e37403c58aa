/** The reads and writes the migration-drift function needs beyond history.ts and repair.ts. */
import { type Manifest, storedManifestBody } from "../shared/manifest.ts";
import type { Sql } from "./connect.ts";
import { sqlState } from "./database_error.ts";

export interface StoredManifest {
  id: number;
  uploaded_at: string;
  uploaded_by: Record<string, unknown>;
  git_commit: string | null;
  git_branch: string | null;
  migration_count: number;
}

export async function storeManifest(sql: Sql, manifest: Manifest, uploadedBy: Record<string, unknown>): Promise<StoredManifest> {
  const [row] = await sql.unsafe<{ stored: StoredManifest }[]>(
    "select drift_guard.store_manifest($1::text::jsonb, $2::text::jsonb) as stored",
    [JSON.stringify(storedManifestBody(manifest)), JSON.stringify(uploadedBy)],
  );
  return row.stored;
}

/** What is known of the newest stored manifest without reading its body; null before the first upload. */
export async function newestManifestMeta(sql: Sql): Promise<StoredManifest | null> {
  const [meta] = await sql<StoredManifest[]>`
      select id::int as id, uploaded_at, uploaded_by, git_commit, git_branch, migration_count
      from drift_guard.manifests order by id desc limit 1`;
  return meta ?? null;
}

/**
 * A stored manifest's body, parsed by `parse` (shared/manifest.ts's parseStoredManifest).
 * Read when a report is built, not kept: at 10,000 migrations the parsed statements are
 * tens of MB that a warm function serving cached reports does not need.
 */
export async function readManifest(sql: Sql, id: number, parse: (body: unknown) => Manifest): Promise<Manifest> {
  const [row] = await sql<{ body: string }[]>`select body::text as body from drift_guard.manifests where id = ${id}`;
  if (!row) throw new Error(`manifest ${id} is gone`);
  return parse(JSON.parse(row.body));
}

/**
 * A cheap fingerprint of supabase_migrations.schema_migrations that changes
 * whenever the history does: the row count and a sum of hashes of each row's
 * version and xmin. Any insert or update gives its row a new xmin; a delete
 * changes the count or the sum. It reads no statements (no TOAST), so a warm
 * /status costs a scan of versions, not of megabytes of SQL. A VACUUM FREEZE
 * changes it too, which only costs one rebuild.
 * @example await historyFingerprint(sql) // "10000:-4611686018427387904"
 */
export async function historyFingerprint(sql: Sql): Promise<string> {
  try {
    const [row] = await sql<{ fingerprint: string }[]>`
      select pg_catalog.count(*)::text || ':' ||
             coalesce(pg_catalog.sum(pg_catalog.hashtextextended(m.version::text || ':' || m.xmin::text, 0)), 0)::text as fingerprint
      from supabase_migrations.schema_migrations m`;
    return row.fingerprint;
  } catch (err) {
    const code = sqlState(err);
    if (code === "42P01" || code === "3F000") return "no history table";
    throw err;
  }
}
