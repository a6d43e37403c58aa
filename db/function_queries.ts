/** The reads and writes the migration-drift function needs beyond history.ts and repair.ts. */
import { statementsChecksum } from "../shared/checksum.ts";
import type { Manifest } from "../shared/manifest.ts";
import type { Sql } from "./connect.ts";
import { repairError } from "./repair.ts";

export interface StoredManifest {
  id: number;
  uploaded_at: string;
  uploaded_by: Record<string, unknown>;
  git_commit: string | null;
  git_branch: string | null;
  migration_count: number;
}

/** Runs a query against drift_guard; a missing schema or function becomes not_installed. */
async function guarded<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (err) {
    const e = err as { code?: string };
    if (e?.code === "42P01") throw repairError({ code: "3F000" }); // undefined table: our schema is missing
    throw repairError(err);
  }
}

export function storeManifest(sql: Sql, manifest: Manifest, uploadedBy: Record<string, unknown>): Promise<StoredManifest> {
  return guarded(async () => {
    const [row] = await sql.unsafe<{ stored: StoredManifest }[]>(
      "select drift_guard.store_manifest($1::text::jsonb, $2::text::jsonb) as stored",
      [JSON.stringify(manifest), JSON.stringify(uploadedBy)],
    );
    return row.stored;
  });
}

/**
 * The newest manifest, parsed. Parsing re-validates every checksum, which costs
 * a scan of every statement, so a warm function keeps the last one by id and
 * only asks the database whether a newer one exists.
 */
export function newestManifest(sql: Sql, cache: { id: number; manifest: Manifest } | null, parse: (body: unknown) => Manifest):
  Promise<{ meta: StoredManifest; manifest: Manifest } | null> {
  return guarded(async () => {
    const [meta] = await sql<StoredManifest[]>`
      select id::int as id, uploaded_at, uploaded_by, git_commit, git_branch, migration_count
      from drift_guard.manifests order by id desc limit 1`;
    if (!meta) return null;
    if (cache && cache.id === meta.id) return { meta, manifest: cache.manifest };
    const [{ body }] = await sql<{ body: string }[]>`select body::text as body from drift_guard.manifests where id = ${meta.id}`;
    return { meta, manifest: parse(JSON.parse(body)) };
  });
}

export interface HistoryRow {
  version: string;
  name: string | null;
  statements: string[] | null;
  checksum: string | null;
}

/** One row of supabase_migrations.schema_migrations, statements included; null when absent (or no table yet). */
export async function readHistoryRow(sql: Sql, version: string): Promise<HistoryRow | null> {
  const columns = await sql<{ name: string }[]>`
    select attname as name from pg_catalog.pg_attribute
    where attrelid = to_regclass('supabase_migrations.schema_migrations') and attnum > 0 and not attisdropped`;
  if (columns.length === 0) return null;
  const has = new Set(columns.map((c) => c.name));
  const [row] = await sql.unsafe<{ version: string; name: string | null; statements: string[] | null }[]>(
    `select version, ${has.has("name") ? "name" : "null::text as name"}, ` +
      `${has.has("statements") ? "statements" : "null::text[] as statements"} ` +
      `from supabase_migrations.schema_migrations where version = $1`,
    [version],
  );
  if (!row) return null;
  return { ...row, checksum: row.statements === null ? null : statementsChecksum(row.statements) };
}

export interface AuditEntry {
  id: string;
  created_at: string;
  kind: "repair" | "undo";
  actor: Record<string, unknown>;
  reason: string;
  changes: Array<{ op: string; version: string; name: string | null }>;
  digest_before: string;
  digest_after: string;
  undoes: string | null;
  undone_by: string | null;
}

/** The audit log, newest first, in the shape `drift-guard audit --format json` prints. Statements stay in the table. */
export function listAudit(sql: Sql, limit: number): Promise<AuditEntry[]> {
  return guarded(async () => {
    const rows = await sql.unsafe<(Omit<AuditEntry, "created_at"> & { created_at: Date })[]>(
      `select id::text, created_at, kind, actor, reason, digest_before, digest_after,
              case when jsonb_typeof(plan -> 'changes') = 'array' then plan -> 'changes' else '[]'::jsonb end as changes,
              undoes::text, undone_by::text
       from drift_guard.audit_log
       order by created_at desc, id desc
       limit $1`,
      [limit],
    );
    return rows.map((r) => ({
      ...r,
      created_at: new Date(r.created_at).toISOString(),
      changes: r.changes.map(({ op, version, name }) => ({ op, version, name: name ?? null })),
    }));
  });
}
