/** The reads and writes the migration-drift function needs beyond history.ts and repair.ts. */
import { CHECKSUM_RULE } from "../shared/checksum.ts";
import { type Manifest, MANIFEST_FORMAT, storedManifestBody } from "../shared/manifest.ts";
import { jsonbStatementsHash } from "./history.ts";
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
 * A stored manifest for a report by name, with the database doing the reading: every
 * migration's version, name, path and checksum, and, instead of its statements, their hash
 * (LocalMigration.statementsHash), which readHistory compares with the history row's. Only
 * migrations the history lacks come with their statements (the report's evidence reads
 * them). At 10,000 migrations that is a few hundred kB instead of the whole SQL.
 *
 * Null when this is not safe or not possible: a manifest not verified under the current
 * checksum rule (read it whole, which validates it), or no history table yet. Comparing
 * definitions needs every statement: readManifest.
 *
 * @example await readManifestIndex(sql, meta.id) ?? await readManifest(sql, meta.id, parseStoredManifest)
 */
export async function readManifestIndex(sql: Sql, id: number): Promise<Manifest | null> {
  const [head] = await sql<{ generated_at: string; git: Manifest["git"]; problems: Manifest["problems"] | null; verified: boolean; history: boolean }[]>`
    select m.body ->> 'generated_at' as generated_at, m.body -> 'git' as git, m.body -> 'problems' as problems,
           m.body ->> 'format' = ${MANIFEST_FORMAT} and m.body ->> 'verified_checksum_rule' = ${CHECKSUM_RULE} as verified,
           pg_catalog.to_regclass('supabase_migrations.schema_migrations') is not null as history
    from drift_guard.manifests m where m.id = ${id}`;
  if (!head?.verified || !head.history) return null;
  const rows = await sql.unsafe<{ version: string; name: string; path: string; checksum: string; statements_hash: string; statements: string[] | null }[]>(
    `select e.value ->> 'version' as version, e.value ->> 'name' as name, e.value ->> 'path' as path, e.value ->> 'checksum' as checksum,
            ${jsonbStatementsHash("e.value -> 'statements'")} as statements_hash,
            case when h.version is null then e.value -> 'statements' end as statements
     from drift_guard.manifests m
     cross join lateral pg_catalog.jsonb_array_elements(m.body -> 'migrations') with ordinality as e(value, o)
     left join supabase_migrations.schema_migrations h on h.version = e.value ->> 'version'
     where m.id = $1
     order by e.o`,
    [id],
  );
  return {
    format: MANIFEST_FORMAT,
    generated_at: head.generated_at,
    git: head.git,
    problems: head.problems ?? [],
    migrations: rows.map((r) => r.statements === null
      ? { version: r.version, name: r.name, path: r.path, checksum: r.checksum, statements: [], statementsHash: r.statements_hash }
      : { version: r.version, name: r.name, path: r.path, checksum: r.checksum, statements: r.statements }),
  };
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
