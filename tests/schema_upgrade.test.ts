/**
 * Upgrades are whole: whatever ran before (an older release's files, one file re-run by
 * hand), `drift-guard install` and init's migration leave the privileges, policies and
 * function settings a fresh install has.
 *
 * tests/fixtures/schema_before_privileges/ holds the schema files of the release before the
 * single privileges file (git 1fa1c15), as a database upgraded from it has run them;
 * tests/fixtures/schema_before_split/ those of the release before the schema had one file per
 * concern (git 0aed9b7), whose integrity file is gone: an upgrade from it has the whole schema
 * a fresh install has (pg_dump -s), not only its privileges.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fsPromises from "node:fs/promises";
import { schemaMigrationText } from "../cli/commands/init.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { findPgBin } from "./harness/postgres.ts";
import { createHistoryTable, ROOT, runCli, schemaFiles } from "./drift_guard_schema_helpers.ts";

const OLD_DIR = join(ROOT, "tests", "fixtures", "schema_before_privileges");

/** Every privilege, policy and function setting of the drift_guard schema, one sorted line each. */
export async function securityState(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql.unsafe<{ line: string }[]>(`
    with acl as (
      select 'schema drift_guard' as object, a.grantee, a.privilege_type
      from pg_catalog.pg_namespace n, pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a
      where n.nspname = 'drift_guard'
      union all
      select 'relation ' || c.relname, a.grantee, a.privilege_type
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace,
           pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault((case when c.relkind = 'S' then 's' else 'r' end)::pg_catalog."char", c.relowner))) a
      where n.nspname = 'drift_guard'
      union all
      select 'column ' || c.relname || '.' || att.attname, a.grantee, a.privilege_type
      from pg_catalog.pg_attribute att join pg_catalog.pg_class c on c.oid = att.attrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace,
           pg_catalog.aclexplode(att.attacl) a
      where n.nspname = 'drift_guard' and att.attacl is not null
      union all
      select 'function ' || p.oid::pg_catalog.regprocedure::pg_catalog.text, a.grantee, a.privilege_type
      from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace,
           pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
      where n.nspname = 'drift_guard'
    )
    select acl.object || ' ' || case when acl.grantee = 0 then 'PUBLIC' else acl.grantee::pg_catalog.regrole::pg_catalog.text end || ' ' || acl.privilege_type as line from acl
    union all
    select 'policy ' || p.tablename || '.' || p.policyname || ' ' || p.cmd || ' ' || p.roles::pg_catalog.text || ' ' || coalesce(p.qual, '') || ' ' || coalesce(p.with_check, '')
    from pg_catalog.pg_policies p where p.schemaname = 'drift_guard'
    union all
    select 'config ' || p.oid::pg_catalog.regprocedure::pg_catalog.text || ' ' || coalesce(p.proconfig::pg_catalog.text, '(none)') || ' definer=' || p.prosecdef::pg_catalog.text
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace where n.nspname = 'drift_guard'
    union all
    select 'rls ' || c.relname || ' ' || c.relrowsecurity::pg_catalog.text
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where n.nspname = 'drift_guard' and c.relkind = 'r'
    order by 1`);
  return rows.map((r) => r.line);
}

async function runFiles(sql: postgres.Sql, paths: readonly string[]): Promise<void> {
  for (const path of paths) await sql.begin((tx) => tx.unsafe(readFileSync(path, "utf8")));
}

const BEFORE_SPLIT_DIR = join(ROOT, "tests", "fixtures", "schema_before_split");
const filesOf = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".sql")).sort().map((f) => join(dir, f));
const oldFiles = () => filesOf(OLD_DIR);

/** The drift_guard schema as pg_dump -s prints it, without comments and blank lines. */
function schemaDump(url: string): string {
  const out = execFileSync(join(findPgBin(), "pg_dump"), ["-s", "-n", "drift_guard", "--no-owner", url], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.trim() && !l.startsWith("--") && !/^\\(un)?restrict /.test(l)).join("\n");
}

const schemaVersions = async (sql: postgres.Sql) =>
  (await sql<{ version: string }[]>`select version from drift_guard.schema_version order by version`).map((r) => r.version);

describe("upgrades are whole", () => {
  const dbs: TestDatabase[] = [];
  let fresh: string[];
  let freshDump: string;

  async function database(label: string): Promise<TestDatabase> {
    const db = await createTestDatabase(label);
    dbs.push(db);
    await createHistoryTable(db.sql);
    return db;
  }

  beforeAll(async () => {
    const db = await database("upgrade_fresh");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
    fresh = await securityState(db.sql);
    freshDump = schemaDump(db.url);
    expect(fresh.some((l) => l.startsWith("policy audit_log.audit_log_select_drift_guard_role"))).toBe(true);
    expect(fresh).toContain("config drift_guard.ledger_record_ddl() {\"search_path=pg_catalog, pg_temp\",plan_cache_mode=force_generic_plan} definer=true");
  });
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it("the older release's schema, then install: the same state as a fresh install", async () => {
    const db = await database("upgrade_install");
    await runFiles(db.sql, oldFiles());
    const before = await securityState(db.sql);
    // The older schema really differs (service_role could write the ledger and tokens), or this test proves nothing.
    expect(before).toContain("relation tokens service_role INSERT");
    expect(before).not.toEqual(fresh);
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
    expect(await securityState(db.sql)).toEqual(fresh);
  });

  it("the older release's schema, then init's migration as supabase db push runs it: the same state", async () => {
    const db = await database("upgrade_init");
    await runFiles(db.sql, oldFiles());
    const { text } = await schemaMigrationText(fsPromises, "test");
    await db.sql.begin((tx) => tx.unsafe(text));
    expect(await securityState(db.sql)).toEqual(fresh);
  });

  it("the release before the schema was split by concern, then install: the schema a fresh install has, and only this release's files recorded", async () => {
    const db = await database("upgrade_split_install");
    await runFiles(db.sql, filesOf(BEFORE_SPLIT_DIR));
    expect(await schemaVersions(db.sql)).toContain("20251202000100");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
    expect(schemaDump(db.url)).toBe(freshDump);
    expect(await securityState(db.sql)).toEqual(fresh);
    expect(await schemaVersions(db.sql)).toEqual(schemaFiles().map((f) => f.version));
  });

  it("the release before the split, then init's migration as supabase db push runs it: the same schema", async () => {
    const db = await database("upgrade_split_init");
    await runFiles(db.sql, filesOf(BEFORE_SPLIT_DIR));
    const { text } = await schemaMigrationText(fsPromises, "test");
    await db.sql.begin((tx) => tx.unsafe(text));
    expect(schemaDump(db.url)).toBe(freshDump);
    expect(await securityState(db.sql)).toEqual(fresh);
    expect(await schemaVersions(db.sql)).toEqual(schemaFiles().map((f) => f.version));
  });

  it("one file re-run by hand (granting what it used to), then install: the same state", async () => {
    const db = await database("upgrade_rerun");
    expect((await runCli(["install", "--db-url", db.url])).status).toBe(0);
    // The older base file re-grants service_role writes on the audit log and tokens.
    await runFiles(db.sql, [oldFiles()[0]]);
    expect(await securityState(db.sql)).toContain("relation audit_log service_role INSERT");
    // That file's text differs from what was recorded for its version: install runs every file again.
    await db.sql`update drift_guard.schema_version set checksum = 'sha256:changed' where version = '20251101000000'`;
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
    expect(await securityState(db.sql)).toEqual(fresh);
  });

  it("the privileges file sorts last, so init's migration and install both end with it", async () => {
    const files = schemaFiles();
    expect(files[files.length - 1].path).toMatch(/_drift_guard_privileges\.sql$/);
    const text = (await schemaMigrationText(fsPromises, "test")).text;
    expect(text.lastIndexOf("-- 20251204000900_drift_guard_privileges.sql")).toBeGreaterThan(text.lastIndexOf("-- 20251202000400_drift_guard_ledger.sql"));
  });
});
