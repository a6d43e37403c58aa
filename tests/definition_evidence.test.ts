/**
 * Evidence by definition (issue 15), on real Postgres 15 with the embedded shadow.
 *
 * The live objects are created the way the dashboard's SQL editor and table editor
 * create them: plain SQL run as postgres, outside any migration, upper-case
 * keywords, explicit constraint names. Every migration file is local-only and
 * older than the newest history row (out_of_order), the seed incident's case.
 *
 * One database per scenario, one shadow per scenario: each object kind has its
 * own tables and its own file, so one verdict never leaks into another.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMigrationsDir } from "../cli/local_migrations.ts";
import { driftReport } from "../db/report.ts";
import type { Evidence, Report } from "../shared/types.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { driftGuard } from "./harness/drift_guard_cli.ts";
import { makeProject } from "./harness/supabase_cli.ts";

/** A history whose newest row is newer than every file below: the files are out_of_order. */
const HISTORY = `
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (version text not null primary key, statements text[], name text);
insert into supabase_migrations.schema_migrations (version, name, statements) values ('20250101000000', 'baseline', '{}');`;

interface Scenario {
  db: TestDatabase;
  project: string;
  report: Report;
  evidence(version: string): Evidence;
}

async function scenario(label: string, live: string, files: Record<string, string>): Promise<Scenario> {
  const db = await createTestDatabase(label);
  const project = makeProject(files);
  try {
    await db.sql.unsafe(HISTORY);
    await db.sql.unsafe(live);
    const parsed = await readMigrationsDir(join(project, "supabase", "migrations"));
    const report = await driftReport(db.sql as any, parsed.migrations, parsed.problems, { evidence: "definitions" });
    return {
      db,
      project,
      report,
      evidence(version) {
        const m = report.migrations.find((x) => x.version === version);
        if (!m?.evidence) throw new Error(`no evidence for ${version}: ${JSON.stringify(m)}`);
        return m.evidence;
      },
    };
  } catch (err) {
    await db.drop();
    rmSync(project, { recursive: true, force: true });
    throw err;
  }
}

async function dispose(s: Scenario | undefined) {
  if (!s) return;
  rmSync(s.project, { recursive: true, force: true });
  await s.db.drop();
}

describe("the issue's reproduction", () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await scenario(
      "repro",
      `create function public.f() returns int language sql as $$ select 1 $$;
       create table public.orders (id int, total text);
       create policy p on public.orders for select using (false);`,
      {
        "20240101000000_legacy.sql": "create or replace function public.f() returns int language sql as $$ select 2 $$;\n",
        "20240102000000_legacy2.sql": 'alter table public.orders add column if not exists total numeric;\ncreate policy "p" on public.orders for select using (true);\n',
      },
    );
  });
  afterAll(() => dispose(s));

  it("says different, names each difference, and never suggests marking them applied as they are", () => {
    const a = s.evidence("20240101000000");
    expect(a.verdict).toBe("different");
    expect(a.differences).toEqual(["function public.f(): body differs"]);
    const b = s.evidence("20240102000000");
    expect(b.verdict).toBe("different");
    expect(b.differences).toEqual([
      "column public.orders.total: text live, numeric in the file",
      "policy p on public.orders: USING (false) live, (true) in the file",
    ]);
    expect(s.report.actions.find((x) => x.kind === "mark_applied")).toBeUndefined();
    const fixes = s.report.actions.filter((x) => x.kind === "record_live_definition");
    expect(fixes.map((x) => x.versions)).toEqual([["20240101000000"], ["20240102000000"]]);
    for (const fix of fixes) {
      expect(fix.command).toMatch(/^drift-guard repair --mark-applied \d{14} \d{14} --force-different --reason "<why>"$/);
      expect(fix.explain).toMatch(/Two steps: 1\. save the SQL/);
    }
  });

  it("the recorded SQL is the live definition (schema-diff's suggested SQL for those objects)", () => {
    const sqlA = s.evidence("20240101000000").live_migration!.sql;
    expect(sqlA).toMatch(/CREATE OR REPLACE FUNCTION public\.f\(\)[\s\S]*select 1/);
    const sqlB = s.evidence("20240102000000").live_migration!.sql;
    expect(sqlB).toContain("alter table public.orders alter column total type text;");
    expect(sqlB).toMatch(/alter policy p on public\.orders\s+using \(false\);/);
  });

  it("check --format text shows the verdict, the differences and the two steps", () => {
    const r = driftGuard(["check", "--format", "text"], { cwd: s.project, env: { SUPABASE_DB_URL: s.db.url } });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("20240102000000: different");
    expect(r.stdout).toContain("- column public.orders.total: text live, numeric in the file");
    expect(r.stdout).toContain("- policy p on public.orders: USING (false) live, (true) in the file");
    expect(r.stdout).toContain("--force-different");
    expect(r.stdout).not.toMatch(/looks applied, mark it applied/);
  });
});
