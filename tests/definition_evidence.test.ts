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
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMigrationsDir } from "../cli/local_migrations.ts";
import { collectDefinitionEvidence } from "../db/definition_evidence.ts";
import { driftReport } from "../db/report.ts";
import type { Evidence, Report } from "../shared/types.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject } from "./harness/supabase_cli.ts";
import { SCHEMA_MIGRATIONS_DDL } from "./harness/schema_migrations.ts";

/** A history whose newest row is newer than every file below: the files are out_of_order. */
const HISTORY = `
${SCHEMA_MIGRATIONS_DDL}
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
    const report = await driftReport(db.sql as any, parsed.migrations, parsed.problems, { evidence: "definitions", judgeDefinitions: collectDefinitionEvidence });
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

  it("says different, names each difference, and never suggests marking them applied as they are", async () => {
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
      expect(fix.command).toBe(`drift-guard fetch --live-definitions ${fix.versions[0]}`);
      expect(fix.explain).toMatch(/Two steps: 1\. save the SQL/);
    }
  });

  it("the recorded SQL is the live definition (schema-diff's suggested SQL for those objects)", async () => {
    const sqlA = s.evidence("20240101000000").live_migration!.sql;
    expect(sqlA).toMatch(/CREATE OR REPLACE FUNCTION public\.f\(\)[\s\S]*select 1/);
    const sqlB = s.evidence("20240102000000").live_migration!.sql;
    expect(sqlB).toContain("alter table public.orders alter column total type text;");
    expect(sqlB).toMatch(/alter policy p on public\.orders\s+using \(false\);/);
  });

  it("repair: marking a different migration applied lists the differences and needs --force-different; the two steps then apply", async () => {
    const cli = (...args: string[]) => runCli(args, { cwd: s.project, env: { SUPABASE_DB_URL: s.db.url } });
    expect((await cli("install")).status).toBe(0);
    const rows = async () => (await s.db.sql`select version from supabase_migrations.schema_migrations order by version`).map((r) => r.version);
    const before = await rows();

    const plan = await cli("repair", "--mark-applied", "20240101000000", "--reason", "ran by hand", "--format", "json");
    expect(plan.status, plan.stderr).toBe(0);
    const p = JSON.parse(plan.stdout);
    expect(p.different).toEqual([{ version: "20240101000000", differences: ["function public.f(): body differs"] }]);
    expect(p.force_different).toBe(false);
    const refused = await cli("repair", "--mark-applied", "20240101000000", "--reason", "ran by hand", "--apply", "--expect-digest", p.plan_digest);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("function public.f(): body differs");
    expect(refused.stderr).toContain("--force-different");
    expect(await rows()).toEqual(before);

    // Step 1: the live definition as a new migration; step 2: mark both applied.
    const live = s.evidence("20240101000000").live_migration!;
    writeFileSync(join(s.project, live.file), live.sql);
    const forced = await cli("repair", "--mark-applied", "20240101000000", live.version, "--force-different", "--reason", "ran by hand; live body recorded", "--format", "json");
    expect(forced.status, forced.stderr).toBe(0);
    const f = JSON.parse(forced.stdout);
    expect(f.force_different).toBe(true);
    expect(f.explain.join("\n")).toContain(`${live.version}: what it builds is identical to the live database`);
    const applied = await cli("repair", "--mark-applied", "20240101000000", live.version, "--force-different", "--reason", "ran by hand; live body recorded", "--apply", "--expect-digest", f.plan_digest);
    expect(applied.status, applied.stderr).toBe(0);
    expect(await rows()).toEqual([...before, "20240101000000", live.version].sort());
    const after = JSON.parse((await cli("check", "--format", "json")).stdout) as Report;
    expect(after.migrations.filter((m) => m.state === "in_sync").map((m) => m.version)).toEqual(["20240101000000", live.version]);
  }, 300_000); // six CLI runs, four of them replaying into the embedded shadow

  it("check --format text shows the verdict, the differences and the two steps", async () => {
    const r = await runCli(["check", "--format", "text"], { cwd: s.project, env: { SUPABASE_DB_URL: s.db.url } });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("20240102000000: different");
    expect(r.stdout).toContain("- column public.orders.total: text live, numeric in the file");
    expect(r.stdout).toContain("- policy p on public.orders: USING (false) live, (true) in the file");
    expect(r.stdout).toContain("--force-different");
    expect(r.stdout).not.toMatch(/looks applied, mark it applied/);
  });
});

/** Per object kind: [label, live SQL (dashboard style), the file, the differences expected]. */
const DIFFERENT: Array<[string, string, string, string[]]> = [
  ["table columns: default and nullability",
    "CREATE TABLE public.items (id bigint NOT NULL, qty integer, CONSTRAINT items_pkey PRIMARY KEY (id));",
    "create table public.items (id bigint primary key, qty integer not null default 1);",
    ["column public.items.qty: default none live, 1 in the file", "column public.items.qty: nullable live, NOT NULL in the file"]],
  ["function: security definer and search_path",
    "CREATE FUNCTION public.g(a integer) RETURNS integer LANGUAGE sql AS $$ SELECT a $$;",
    "create function public.g(a integer) returns integer language sql security definer set search_path = '' as $$ SELECT a $$;",
    ['function public.g(integer): settings (search_path…) none live, search_path="" in the file',
      "function public.g(integer): SECURITY INVOKER live, SECURITY DEFINER in the file"]],
  ["function: return type and language",
    "CREATE FUNCTION public.h(a integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN a; END $$;",
    "create function public.h(a integer) returns bigint language sql as $$ select a $$;",
    ["function public.h(integer): body differs", "function public.h(integer): language plpgsql live, sql in the file", "function public.h(integer): returns integer live, bigint in the file"]],
  ["policy: command, roles, WITH CHECK, permissive",
    `CREATE TABLE public.docs (id integer, owner uuid); ALTER TABLE public.docs ENABLE ROW LEVEL SECURITY;
     CREATE POLICY "docs owner" ON public.docs AS PERMISSIVE FOR ALL TO authenticated USING (true) WITH CHECK (true);`,
    `create policy "docs owner" on public.docs as restrictive for update to anon using (true) with check (false);`,
    ['policy "docs owner" on public.docs: command ALL live, UPDATE in the file', 'policy "docs owner" on public.docs: PERMISSIVE live, RESTRICTIVE in the file',
      'policy "docs owner" on public.docs: roles authenticated live, anon in the file', 'policy "docs owner" on public.docs: WITH CHECK (true) live, (false) in the file']],
  ["index: columns, predicate, uniqueness",
    "CREATE TABLE public.evts (a integer, b integer); CREATE INDEX evts_idx ON public.evts USING btree (a);",
    "create unique index evts_idx on public.evts (b) where b > 0;",
    ["index public.evts_idx: CREATE INDEX evts_idx ON public.evts USING btree (a) live, CREATE UNIQUE INDEX evts_idx ON public.evts USING btree (b) WHERE (b > 0) in the file"]],
  ["view: definition",
    "CREATE VIEW public.v AS SELECT 1 AS x;",
    "create view public.v as select 2 as x;",
    ["view public.v: definition differs"]],
  ["trigger: timing and events",
    `CREATE TABLE public.tt (id integer);
     CREATE FUNCTION public.tt_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
     CREATE TRIGGER tt_trg BEFORE UPDATE ON public.tt FOR EACH ROW EXECUTE FUNCTION public.tt_fn();`,
    "create trigger tt_trg after insert on public.tt for each row execute function public.tt_fn();",
    ["trigger tt_trg on public.tt: CREATE TRIGGER tt_trg BEFORE UPDATE ON public.tt FOR EACH ROW EXECUTE FUNCTION public.tt_fn() live, CREATE TRIGGER tt_trg AFTER INSERT ON public.tt FOR EACH ROW EXECUTE FUNCTION public.tt_fn() in the file"]],
  ["enum: labels",
    "CREATE TYPE public.mood AS ENUM ('sad', 'ok');",
    "create type public.mood as enum ('sad', 'ok', 'happy');",
    ["type public.mood: labels (sad, ok) live, (sad, ok, happy) in the file"]],
  ["grants on the object the migration grants on",
    "CREATE TABLE public.gt (id integer); REVOKE ALL ON public.gt FROM anon; GRANT SELECT, INSERT ON public.gt TO anon;",
    "revoke all on public.gt from anon;\ngrant select on table public.gt to anon;",
    ["grant table public.gt to anon: live also grants INSERT"]],
  ["row level security",
    "CREATE TABLE public.rt (id integer);",
    "alter table public.rt enable row level security;",
    ["row level security on public.rt: disabled live, enabled in the file"]],
];

/** The same objects, written differently (case, quoting, spacing, synonyms): only semantics count. */
const IDENTICAL: Array<[string, string, string]> = [
  ["table and columns",
    "CREATE TABLE public.items (id bigint NOT NULL, qty integer NOT NULL DEFAULT 1, note text, CONSTRAINT items_pkey PRIMARY KEY (id));",
    `CREATE TABLE IF NOT EXISTS "public"."items" (\n  "id" INT8 PRIMARY KEY,\n  QTY int4 NOT NULL DEFAULT (1),\n  Note TEXT NULL\n);`],
  ["function",
    "CREATE FUNCTION public.g(a integer) RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = '' AS $$ SELECT a $$;",
    `create or replace function "public"."g"(a int4) returns INT4 security definer set search_path to '' language SQL as $body$\n  select A; -- the argument\n$body$;`],
  ["policy",
    `CREATE TABLE public.docs (id integer, owner uuid); ALTER TABLE public.docs ENABLE ROW LEVEL SECURITY;
     CREATE POLICY "docs owner" ON public.docs AS PERMISSIVE FOR SELECT TO authenticated USING ((owner = '00000000-0000-0000-0000-000000000000'::uuid));`,
    `create policy "docs owner" on "public".docs for select to "authenticated" using (OWNER = '00000000-0000-0000-0000-000000000000');`],
  ["index",
    "CREATE TABLE public.evts (a integer, b integer); CREATE UNIQUE INDEX evts_idx ON public.evts USING btree (b) WHERE (b > 0);",
    `create unique index if not exists "evts_idx" on "public"."evts" ( B ) where B>0;`],
  ["view",
    "CREATE VIEW public.v AS SELECT 1 AS x;",
    `create or replace view "public"."v" as SELECT   1 AS "x";`],
  ["trigger",
    `CREATE TABLE public.tt (id integer);
     CREATE FUNCTION public.tt_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
     CREATE TRIGGER tt_trg BEFORE UPDATE ON public.tt FOR EACH ROW EXECUTE FUNCTION public.tt_fn();`,
    `create trigger "tt_trg" before update on "public"."tt" for each row execute procedure public.tt_fn();`],
  ["enum",
    "CREATE TYPE public.mood AS ENUM ('sad', 'ok');",
    `create type "public"."mood" as enum ( 'sad','ok' );`],
  ["grants",
    "CREATE TABLE public.gt (id integer); REVOKE ALL ON public.gt FROM anon; GRANT SELECT, INSERT ON public.gt TO anon;",
    `revoke all privileges on table "public"."gt" from "anon";\nGRANT INSERT, SELECT ON public.gt TO anon;`],
  ["row level security",
    "CREATE TABLE public.rt (id integer); ALTER TABLE public.rt ENABLE ROW LEVEL SECURITY;",
    `ALTER TABLE "public"."rt" ENABLE ROW LEVEL SECURITY;`],
];

const version = (i: number) => `2024020100${String(i).padStart(4, "0")}`;
/** Each kind in its own schema, so that the same names can be used in both tables above. */
const inSchema = (sql: string, schema: string) => sql.replace(/"public"\./g, `"${schema}".`).replace(/\bpublic\./g, `${schema}.`);

describe("one variant per object kind, on real Postgres 15", () => {
  let different: Scenario;
  let identical: Scenario;
  beforeAll(async () => {
    const schemas = (rows: unknown[]) => rows.map((_, i) => `CREATE SCHEMA k${i}; GRANT USAGE ON SCHEMA k${i} TO anon, authenticated;`).join("\n");
    [different, identical] = await Promise.all([
      scenario("kinds_diff", schemas(DIFFERENT) + DIFFERENT.map(([, live], i) => inSchema(live, `k${i}`)).join("\n"),
        Object.fromEntries(DIFFERENT.map(([label, , file], i) => [`${version(i)}_${label.split(":")[0].replace(/\W+/g, "_")}.sql`, inSchema(file, `k${i}`) + "\n"]))),
      scenario("kinds_same", schemas(IDENTICAL) + IDENTICAL.map(([, live], i) => inSchema(live, `k${i}`)).join("\n"),
        Object.fromEntries(IDENTICAL.map(([label, , file], i) => [`${version(i)}_${label.replace(/\W+/g, "_")}.sql`, inSchema(file, `k${i}`) + "\n"]))),
    ]);
  });
  afterAll(async () => {
    await dispose(different);
    await dispose(identical);
  });

  it.each(DIFFERENT.map(([label, , , expected], i) => [label, i, expected] as const))("different: %s", (_, i, expected) => {
    const e = different.evidence(version(i));
    expect(e.verdict).toBe("different");
    expect(e.differences).toEqual(expected.map((d) => inSchema(d, `k${i}`)));
  });

  it.each(IDENTICAL.map(([label], i) => [label, i] as const))("identical, though written differently: %s", (_, i) => {
    const e = identical.evidence(version(i));
    expect(e.differences ?? []).toEqual([]);
    expect(e.verdict).toBe("identical");
  });

  it("only the identical ones are suggested for --mark-applied", async () => {
    expect(different.report.actions.find((a) => a.kind === "mark_applied")).toBeUndefined();
    expect(identical.report.actions.find((a) => a.kind === "mark_applied")?.versions).toEqual(IDENTICAL.map((_, i) => version(i)));
  });
});
