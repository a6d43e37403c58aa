/** Helpers for the tests of our own schema: run the CLI in-process, install the SQL directly, name the lock. */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type postgres from "postgres";
import { type InProcessResult, runCli as runInProcess } from "./harness/cli_in_process.ts";
import { LEGACY_SCHEMA_MIGRATIONS_DDL } from "./harness/schema_migrations.ts";

export const ROOT = resolve(import.meta.dirname, "..");
export const MIGRATIONS_DIR = join(ROOT, "supabase", "migrations");

/** drift_guard.repair_lock_key(): 'dGrepair' as a bigint. */
export const REPAIR_LOCK_KEY = "7225869907141945714";

/**
 * `drift-guard args…` in this process (tests/harness/cli_in_process.ts), from the repository root.
 * `env` is the command's whole environment: a developer's own SUPABASE_DB_URL never reaches it,
 * and a key given as undefined is left out.
 *
 * @example const r = await runCli(["install", "--db-url", db.url])
 */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<InProcessResult> {
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return await runInProcess(args, { cwd: ROOT, env: given });
}

/** Our schema files, oldest first: supabase/migrations/<14 digits>_*drift_guard*.sql. */
export function schemaFiles(): { version: string; path: string }[] {
  return readdirSync(MIGRATIONS_DIR)
    .map((f) => ({ f, m: /^([0-9]{14})_.*drift_guard.*\.sql$/.exec(f) }))
    .filter((x) => x.m)
    .map((x) => ({ version: x.m![1], path: join(MIGRATIONS_DIR, x.f) }))
    .sort((a, b) => a.version.localeCompare(b.version));
}

/** Runs the schema files directly (as `supabase db push` would), without the CLI. */
export async function installDirect(sql: postgres.Sql): Promise<void> {
  for (const file of schemaFiles()) {
    await sql.begin((tx) => tx.unsafe(readFileSync(file.path, "utf8")));
  }
}

/** The Supabase CLI's history table. */
export async function createHistoryTable(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(`
    ${LEGACY_SCHEMA_MIGRATIONS_DDL}
    alter table supabase_migrations.schema_migrations add column if not exists statements text[];
    alter table supabase_migrations.schema_migrations add column if not exists name text;`);
}

export interface HistoryRow {
  version: string;
  name: string | null;
  statements: string[] | null;
}

export async function readRows(sql: postgres.Sql): Promise<HistoryRow[]> {
  const rows = await sql<HistoryRow[]>`
    select version, name, statements from supabase_migrations.schema_migrations order by version collate "C"`;
  return rows.map((r) => ({ version: r.version, name: r.name, statements: r.statements }));
}

export async function insertRows(sql: postgres.Sql, rows: readonly HistoryRow[]): Promise<void> {
  for (const r of rows) {
    await sql`insert into supabase_migrations.schema_migrations (version, name, statements)
              values (${r.version}, ${r.name}, ${r.statements === null ? null : sql.array(r.statements, 25)})`;
  }
}

export async function dbDigest(sql: postgres.Sql): Promise<string> {
  const [row] = await sql<{ d: string }[]>`select drift_guard.history_digest() as d`;
  return row.d;
}
