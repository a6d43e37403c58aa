/** Helpers for the tests of our own schema: run the CLI, install the SQL directly, name the lock. */
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type postgres from "postgres";
import { LEGACY_SCHEMA_MIGRATIONS_DDL } from "./harness/schema_migrations.ts";

export const ROOT = resolve(import.meta.dirname, "..");
export const CLI = join(ROOT, "bin", "drift-guard.js");
export const MIGRATIONS_DIR = join(ROOT, "supabase", "migrations");

/** drift_guard.repair_lock_key(): 'dGrepair' as a bigint. */
export const REPAIR_LOCK_KEY = "7225869907141945714";

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  // Never let a developer's own database leak into a test.
  if (!("SUPABASE_DB_URL" in extra)) delete env.SUPABASE_DB_URL;
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
  return env;
}

export function runCli(args: string[], env: Record<string, string | undefined> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", env: cliEnv(env), timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function runCliAsync(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: cliEnv(env) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ status: code ?? -1, stdout, stderr }));
  });
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
