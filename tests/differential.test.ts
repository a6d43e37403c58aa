/**
 * Differential tests: the Supabase CLI is the oracle. It pushes the corpus,
 * we check; then every kind of drift is made by hand and our version sets must
 * equal `supabase migration list`'s.
 */
import { cpSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { splitStatements } from "../shared/sql_statements.ts";
import type { Report } from "../shared/types.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject, supabaseList, supabasePush, supabaseRepair } from "./harness/supabase_cli.ts";

const CORPUS = new URL("./fixtures/corpus/", import.meta.url).pathname;

async function check(db: TestDatabase, project: string): Promise<{ status: number; report: Report }> {
  const r = await runCli(["check", "--db-url", db.url, "--format", "json"], { cwd: project });
  if (r.status > 1) throw new Error(`check failed (${r.status}): ${r.stderr}`);
  return { status: r.status, report: JSON.parse(r.stdout) };
}

function ourSets(report: Report) {
  return {
    local: report.migrations.filter((m) => m.local).map((m) => m.version).sort(),
    remote: report.migrations.filter((m) => m.remote).map((m) => m.version).sort(),
  };
}

describe("against the Supabase CLI", () => {
  let db: TestDatabase;
  let project: string;
  const dir = () => join(project, "supabase", "migrations");

  beforeAll(async () => {
    db = await createTestDatabase("differential");
    project = makeProject({});
    cpSync(CORPUS, dir(), { recursive: true });
    supabasePush(db.url, project);
  });
  afterAll(async () => {
    await db.drop();
    rmSync(project, { recursive: true, force: true });
  });

  it("stores exactly the statements our splitter produces, for every corpus file", async () => {
    const rows = await db.sql<{ version: string; statements: string[] }[]>`select version, statements from supabase_migrations.schema_migrations`;
    const stored = new Map(rows.map((r) => [r.version, r.statements]));
    const files = readdirSync(CORPUS);
    expect(rows).toHaveLength(files.length);
    for (const f of files) {
      expect(splitStatements(readFileSync(join(CORPUS, f), "utf8")), f).toEqual(stored.get(f.split("_")[0]));
    }
  });

  it("every file the CLI pushed unchanged checks in_sync", async () => {
    const { status, report } = await check(db, project);
    expect(report.problems).toEqual([]);
    expect(report.migrations.every((m) => m.state === "in_sync")).toBe(true);
    expect(report.status).toBe("in_sync");
    expect(status).toBe(0);
    expect(ourSets(report)).toEqual(supabaseList(db.url, project));
  });

  it("reports every kind of drift, and agrees with `supabase migration list` on the version sets", async () => {
    // Dashboard changes: rows inserted the way the SQL editor or another tool would.
    await db.sql`insert into supabase_migrations.schema_migrations(version, name, statements)
                 values ('20240301000000', 'dashboard_change', array['alter table public.profiles add column x int'])`;
    await db.sql`insert into supabase_migrations.schema_migrations(version) values ('20240302000000')`;
    // A file deleted locally (its row stays).
    rmSync(join(dir(), "20240103000000_triggers.sql"));
    // An edited file: a token inside a literal changed.
    const strings = join(dir(), "20240108000000_strings.sql");
    writeFileSync(strings, readFileSync(strings, "utf8").replace("plain; text", "plain; TEXT"));
    // A cosmetic edit: comments and whitespace only.
    const grants = join(dir(), "20240104000000_do_block_and_grants.sql");
    writeFileSync(grants, "-- reformatted\n" + readFileSync(grants, "utf8").replace(/^grant (.*);$/gm, "/* why */ grant\t $1  ;  -- ok\r\n"));
    // A renamed file.
    renameSync(join(dir(), "20240106000000_types_and_views.sql"), join(dir(), "20240106000000_types_views_renamed.sql"));
    // Local files older and newer than the newest remote version.
    writeFileSync(join(dir(), "20240201000000_forgotten.sql"), "create table public.forgotten(id int);");
    writeFileSync(join(dir(), "20240401000000_new_feature.sql"), "create table public.new_feature(id int);");

    const { status, report } = await check(db, project);
    expect(status).toBe(1);
    const state = Object.fromEntries(report.migrations.map((m) => [m.version, m.state]));
    expect(state).toMatchObject({
      "20240301000000": "remote_only",
      "20240302000000": "remote_only",
      "20240103000000": "remote_only",
      "20240108000000": "edited",
      "20240104000000": "in_sync",
      "20240106000000": "renamed",
      "20240201000000": "out_of_order",
      "20240401000000": "pending",
      "20240101000000": "in_sync",
    });
    expect(report.summary).toEqual({ in_sync: 8, edited: 1, renamed: 1, pending: 1, out_of_order: 1, remote_only: 3 });
    expect(ourSets(report)).toEqual(supabaseList(db.url, project));
  });

  it("a row written by `supabase migration repair --status applied` checks in_sync against its file", async () => {
    supabaseRepair(db.url, project, "applied", ["20240201000000"]);
    const { report } = await check(db, project);
    expect(report.migrations.find((m) => m.version === "20240201000000")?.state).toBe("in_sync");
    expect(ourSets(report)).toEqual(supabaseList(db.url, project));
  });
});
