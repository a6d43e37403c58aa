/**
 * The pgTAP suite in supabase/tests/*.sql, run with pg_prove against a fresh
 * database holding our schema, as `supabase test db` would run it. pg_prove and
 * the pgtap extension come from Debian's postgresql-15-pgtap (.ci/run installs
 * it). Missing, this test fails and says so: it never skips.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, pgPort, type TestDatabase } from "./harness/database.ts";
import { SUPERUSER_PASSWORD } from "./harness/postgres.ts";
import { ROOT, runCli } from "./drift_guard_schema_helpers.ts";

const TESTS_DIR = join(ROOT, "supabase", "tests");

describe("pgTAP (supabase/tests/*.sql) via pg_prove", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("pgtap");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
  });
  afterAll(async () => db?.drop());

  it("pg_prove and the pgtap extension are installed", async () => {
    const which = spawnSync("pg_prove", ["--version"], { encoding: "utf8" });
    expect(which.error, "pg_prove not found: apt-get install postgresql-15-pgtap (.ci/run does this)").toBeUndefined();
    const [row] = await db.sql`select count(*)::int as n from pg_available_extensions where name = 'pgtap'`;
    expect(row.n, "the pgtap extension is not available to this PostgreSQL: apt-get install postgresql-15-pgtap").toBe(1);
  });

  it("every test file passes", () => {
    const files = readdirSync(TESTS_DIR).filter((f) => f.endsWith(".sql")).sort().map((f) => join(TESTS_DIR, f));
    expect(files.length).toBeGreaterThan(0);
    const r = spawnSync("pg_prove", ["--host", "127.0.0.1", "--port", String(pgPort()), "--username", "postgres", "--dbname", db.name, "--verbose", ...files], {
      encoding: "utf8",
      env: { ...process.env, PGPASSWORD: SUPERUSER_PASSWORD },
      timeout: 120_000,
    });
    expect(r.error, "pg_prove could not run: apt-get install postgresql-15-pgtap").toBeUndefined();
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^Result: PASS$/m);
    expect(r.stdout).not.toMatch(/^not ok/m);
  });
});
