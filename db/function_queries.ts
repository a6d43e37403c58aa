/** The reads and writes the migration-drift function needs beyond history.ts and repair.ts. */
import type { Manifest } from "../shared/manifest.ts";
import type { Sql } from "./connect.ts";

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
    [JSON.stringify(manifest), JSON.stringify(uploadedBy)],
  );
  return row.stored;
}

/**
 * The newest manifest, parsed. Parsing re-validates every checksum, which costs
 * a scan of every statement, so a warm function keeps the last one by id and
 * only asks the database whether a newer one exists.
 */
export async function newestManifest(sql: Sql, cache: { id: number; manifest: Manifest } | null, parse: (body: unknown) => Manifest):
  Promise<{ meta: StoredManifest; manifest: Manifest } | null> {
  const [meta] = await sql<StoredManifest[]>`
      select id::int as id, uploaded_at, uploaded_by, git_commit, git_branch, migration_count
      from drift_guard.manifests order by id desc limit 1`;
  if (!meta) return null;
  if (cache && cache.id === meta.id) return { meta, manifest: cache.manifest };
  const [{ body }] = await sql<{ body: string }[]>`select body::text as body from drift_guard.manifests where id = ${meta.id}`;
  return { meta, manifest: parse(JSON.parse(body)) };
}

