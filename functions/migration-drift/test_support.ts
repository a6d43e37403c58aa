/**
 * For the function's Deno tests: a real, throwaway PostgreSQL (the same harness
 * the vitest suite uses), with Supabase's roles, drift_guard installed by the
 * real CLI, and tokens minted by the real CLI. Nothing here is a stand-in.
 */
import { openDatabase, type Sql } from "../../db/connect.ts";
import type { TokenScope } from "../../db/tokens.ts";
import { SCHEMA_MIGRATIONS_DDL } from "../../tests/harness/schema_migrations.ts";
import { buildManifest, type Manifest } from "../../shared/manifest.ts";
import { parseMigrationFiles } from "../../shared/migration_files.ts";
import { type PgServer, startPostgres } from "../../tests/harness/postgres.ts";

const root = new URL("../../", import.meta.url);

export interface TestDb {
  server: PgServer;
  url: string;
  sql: Sql;
  close(): Promise<void>;
}

/** Runs `node bin/drift-guard.js …`; returns stdout, throws with stderr on failure. */
export async function cli(args: string[]): Promise<string> {
  const out = await new Deno.Command("node", { args: [new URL("bin/drift-guard.js", root).pathname, ...args], stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`drift-guard ${args[0]} failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`);
  return text;
}

export async function createToken(url: string, scope: TokenScope, label: string): Promise<string> {
  return (await cli(["token", "create", "--db-url", url, "--scope", scope, "--label", label])).trim().split("\n").at(-1)!;
}

export async function startTestDatabase(): Promise<TestDb> {
  const server = await startPostgres();
  const admin = openDatabase(server.url(), { max: 1 });
  await admin.unsafe("create database dg_function");
  await admin.end();
  const url = server.url("dg_function");
  const sql = openDatabase(url, { max: 2 });
  await sql.unsafe(await Deno.readTextFile(new URL("tests/harness/supabase_roles.sql", root)));
  await cli(["install", "--db-url", url]);
  return {
    server,
    url,
    sql,
    async close() {
      await sql.end({ timeout: 1 });
      server.destroy();
    },
  };
}

/** A manifest built by the core from migration files, as `drift-guard manifest build` does. */
export function manifestOf(files: Record<string, string>): Manifest {
  const inputs = Object.entries(files).map(([fileName, text]) => ({
    path: `supabase/migrations/${fileName}`,
    fileName,
    bytes: new TextEncoder().encode(text),
  }));
  return buildManifest(parseMigrationFiles(inputs), null, new Date());
}

/**
 * Records migrations in the history as `supabase db push` would (the table as the CLI creates it):
 * each migration's statements and its history row in one transaction, so the DDL ledger sees them tracked.
 */
export async function recordHistory(sql: Sql, manifest: Manifest, versions: string[]): Promise<void> {
  await sql.unsafe(SCHEMA_MIGRATIONS_DDL);
  for (const m of manifest.migrations.filter((m) => versions.includes(m.version))) {
    await sql.begin(async (tx) => {
      for (const s of m.statements) await tx.unsafe(s);
      await tx`insert into supabase_migrations.schema_migrations (version, name, statements) values (${m.version}, ${m.name}, ${m.statements})`;
    });
  }
}
