/**
 * Whole-history drift, end to end as a user meets it: the project is built with
 * the real Supabase CLI, drift-guard's advice is followed literally until check
 * exits 0, and then the CLI's `db push --dry-run` has nothing to do and a
 * database built from the repository alone has the live schema (pg_dump -s).
 */
import { spawnSync } from "node:child_process";
import { rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { splitStatements } from "../shared/sql_statements.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { dumpSchema, followAdvice, pushDryRun } from "./harness/follow_advice.ts";
import { makeProject as makeProjectDir, supabasePush } from "./harness/supabase_cli.ts";

const INIT = "create table public.projects (id bigint generated always as identity primary key, name text not null);\n";
const TODOS = "create table public.todos (id bigint generated always as identity primary key, project_id bigint references public.projects (id), title text not null);\n" +
  "alter table public.todos enable row level security;\n";
const TAGS = "create table public.tags (id bigint primary key, label text);\n";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function makeProject(files: Record<string, string>): string {
  const dir = makeProjectDir(files);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function database(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  cleanups.push(() => db.drop());
  return db;
}

/** What an agent's apply_migration does: run the SQL and record it under its own version and name, in one transaction. */
async function agentApplies(db: TestDatabase, version: string, name: string, sql: string) {
  await db.sql.begin(async (tx) => {
    await tx.unsafe(sql);
    await tx.unsafe("insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)", [version, name, splitStatements(sql)]);
  });
}

/** The oracles once check exits 0. */
async function assertConverged(project: string, db: TestDatabase) {
  const dry = pushDryRun(project, db.url);
  expect(dry.status, dry.output).toBe(0);
  expect(dry.output).toMatch(/Remote database is up to date/);
  const fresh = await database("fresh");
  supabasePush(fresh.url, project);
  expect(dumpSchema(fresh.url)).toBe(dumpSchema(db.url));
}

async function installed(label: string): Promise<TestDatabase> {
  const db = await database(label);
  const r = await runCli(["install", "--db-url", db.url]);
  expect(r.status, r.stderr).toBe(0);
  return db;
}

describe("an agent re-versioned a migration", () => {
  it("one moved finding, verified by replay; following it converges and a fresh build equals live", async () => {
    const db = await installed("moved");
    const project = makeProject({ "20260101000000_init.sql": INIT });
    supabasePush(db.url, project);
    writeFileSync(join(project, "supabase/migrations/20260102000000_todos.sql"), TODOS);
    await agentApplies(db, "20260105093000", "todos", TODOS);

    const { reports } = followAdvice(project, db.url);
    const first = reports[0];
    expect(first.findings).toEqual([expect.objectContaining({ kind: "moved", from: ["20260105093000"], to: "20260102000000" })]);
    expect(first.findings[0].verification).toMatchObject({ status: "ok" });
    expect(first.actions.map((a) => a.kind)).toEqual(["move_history"]);
    // Before the repair, what the recorded files build lacks what the agent ran.
    expect(first.replay).toMatchObject({ status: "differs" });
    expect(first.replay?.summary).toMatch(/public\.todos/);
    await assertConverged(project, db);
    // Converged: the one line of an in-sync check says the repository replays to what is live.
    const text = await runCli(["check"], { cwd: project, env: { SUPABASE_DB_URL: db.url } });
    expect(text.status).toBe(0);
    expect(text.stdout.trim().split("\n")).toHaveLength(1);
    expect(text.stdout).toMatch(/^in sync: 2 migration\(s\) match the history \(sha256:[0-9a-f]+…\); replay: ok \(2 migrations, equals live\)$/m);
  });

  it("the agent also renamed it", async () => {
    const db = await installed("moved_renamed");
    const project = makeProject({ "20260101000000_init.sql": INIT });
    supabasePush(db.url, project);
    writeFileSync(join(project, "supabase/migrations/20260102000000_todos.sql"), TODOS);
    await agentApplies(db, "20260105093000", "create_todos_table", TODOS);

    const { reports } = followAdvice(project, db.url);
    expect(reports[0].findings.map((f) => f.kind)).toEqual(["moved"]);
    await assertConverged(project, db);
  });

  it("two moved at once", async () => {
    const db = await installed("moved_two");
    const project = makeProject({ "20260101000000_init.sql": INIT });
    supabasePush(db.url, project);
    writeFileSync(join(project, "supabase/migrations/20260102000000_todos.sql"), TODOS);
    writeFileSync(join(project, "supabase/migrations/20260103000000_tags.sql"), TAGS);
    await agentApplies(db, "20260105093000", "todos", TODOS);
    await agentApplies(db, "20260105093100", "add_tags", TAGS);

    const { reports } = followAdvice(project, db.url);
    expect(reports[0].findings.map((f) => [f.kind, f.from[0], f.to])).toEqual([
      ["moved", "20260105093000", "20260102000000"],
      ["moved", "20260105093100", "20260103000000"],
    ]);
    await assertConverged(project, db);
  });
});

describe("a local squash", () => {
  it("rows folded into the newest file: one squashed finding; following it converges", async () => {
    const db = await installed("squash");
    const project = makeProject({ "20260101000000_init.sql": INIT, "20260102000000_todos.sql": TODOS, "20260103000000_tags.sql": TAGS });
    supabasePush(db.url, project);
    unlinkSync(join(project, "supabase/migrations/20260101000000_init.sql"));
    unlinkSync(join(project, "supabase/migrations/20260102000000_todos.sql"));
    writeFileSync(join(project, "supabase/migrations/20260103000000_tags.sql"), INIT + TODOS + TAGS);

    const { reports } = followAdvice(project, db.url);
    expect(reports[0].findings).toEqual([expect.objectContaining({ kind: "squashed", from: ["20260101000000", "20260102000000"], to: "20260103000000" })]);
    expect(reports[0].findings[0].verification).toMatchObject({ status: "ok" });
    await assertConverged(project, db);
  });

  it("a squash that left one extra object live: the file recording it is written, then the squash records both; following it converges", async () => {
    const db = await installed("squash_extra");
    const project = makeProject({ "20260101000000_init.sql": INIT, "20260102000000_todos.sql": TODOS + "create table public.audit_notes (id int);\n", "20260103000000_tags.sql": TAGS });
    supabasePush(db.url, project);
    unlinkSync(join(project, "supabase/migrations/20260101000000_init.sql"));
    unlinkSync(join(project, "supabase/migrations/20260102000000_todos.sql"));
    writeFileSync(join(project, "supabase/migrations/20260103000000_tags.sql"), INIT + TODOS + TAGS);

    const { reports, steps } = followAdvice(project, db.url);
    const [first, second] = reports;
    expect(first.findings).toEqual([expect.objectContaining({ kind: "squashed", command: "drift-guard fetch --live-definitions 20260103000000" })]);
    expect(first.findings[0].explain).toContain("table public.audit_notes");
    expect(first.findings[0].verification).toMatchObject({ status: "ok" });
    expect(first.findings[0].live_migration?.sql).toMatch(/create table public\.audit_notes/i);
    expect(second.findings).toEqual([expect.objectContaining({
      kind: "squashed",
      into: ["20260103000000", "20260103000001"],
      command: 'drift-guard repair --squash 20260101000000 20260102000000 --into 20260103000000 20260103000001 --reason "<why>"',
    })]);
    expect(second.findings[0].verification).toMatchObject({ status: "ok" });
    expect(steps.map((s) => s.command).filter((c) => !c.startsWith("drift-guard check"))).toEqual([
      "drift-guard fetch --live-definitions 20260103000000",
      expect.stringMatching(/^drift-guard repair --squash 20260101000000 20260102000000 --into 20260103000000 20260103000001 --reason/),
      expect.stringMatching(/--apply --expect-digest sha256:/),
    ]);
    await assertConverged(project, db);
  });

  it("a squash file that also builds what never ran matches only partly: ambiguous, no repair is offered, and the report names the object", async () => {
    const db = await installed("squash_partial");
    const project = makeProject({ "20260101000000_init.sql": INIT, "20260102000000_todos.sql": TODOS, "20260103000000_tags.sql": TAGS });
    supabasePush(db.url, project);
    unlinkSync(join(project, "supabase/migrations/20260101000000_init.sql"));
    unlinkSync(join(project, "supabase/migrations/20260102000000_todos.sql"));
    writeFileSync(join(project, "supabase/migrations/20260103000000_tags.sql"), INIT + TODOS + TAGS + "create table public.audit_notes (id int);\n");

    const r = await runCli(["check", "--format", "json"], { cwd: project, env: { SUPABASE_DB_URL: db.url } });
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.findings).toEqual([expect.objectContaining({ kind: "ambiguous", command: null })]);
    expect(report.findings[0].explain).toContain("table public.audit_notes");
    expect(report.actions.map((a: { command: string }) => a.command).join("\n")).not.toMatch(/--squash|drift-guard fetch|migration new|--mark-applied/);
  });
});

describe("parallel pull requests", () => {
  it("an older file that depends on a newer applied one is renumbered after it; following it converges", async () => {
    const db = await installed("parallel");
    const project = makeProject({
      "20260101000000_init.sql": INIT,
      "20260103000000_invoices.sql": "create table public.invoices (id bigint primary key, total numeric);\n",
    });
    supabasePush(db.url, project);
    // The other pull request, merged after the newer one was pushed: git tracks its file.
    writeFileSync(join(project, "supabase/migrations/20260102000000_invoice_lines.sql"), "create table public.invoice_lines (id bigint primary key, invoice_id bigint references public.invoices (id));\n");
    execGit(project);

    const { reports } = followAdvice(project, db.url);
    expect(reports[0].findings).toEqual([expect.objectContaining({ kind: "renumber", from: ["20260102000000"], to: "20260103000001" })]);
    expect(reports[0].findings[0].command).toMatch(/^git mv /);
    expect(reports[0].replay?.status).toBe("failed");
    expect(reports[0].replay?.summary).toMatch(/20260102000000_invoice_lines\.sql:1/);
    await assertConverged(project, db);
  });
});

describe("a saved schema-diff suggestion", () => {
  it("a pending file whose objects are live is marked applied in the table and in the next step alike", async () => {
    const db = await installed("saved_diff");
    const project = makeProject({ "20260101000000_init.sql": INIT });
    supabasePush(db.url, project);
    await db.sql.unsafe("alter table public.projects add column archived boolean not null default false");
    writeFileSync(join(project, "supabase/migrations/20260106000000_remote_schema.sql"), "alter table public.projects add column archived boolean not null default false;\n");

    const { reports } = followAdvice(project, db.url);
    const first = reports[0];
    expect(first.migrations.find((m) => m.version === "20260106000000")?.evidence?.verdict).toBe("identical");
    expect(first.actions.map((a) => a.command).join("\n")).not.toMatch(/^supabase db push$/m);
    await assertConverged(project, db);
  });
});

describe("objects live with other definitions", () => {
  it("fetch --live-definitions writes the file, the next check marks both applied; following it converges", async () => {
    const db = await installed("live_defs");
    const project = makeProject({ "20260101000000_init.sql": INIT, "20260103000000_tags.sql": TAGS });
    supabasePush(db.url, project);
    // Someone ran the file's function by hand, then changed it in the dashboard.
    const fn = "create function public.project_count() returns bigint language sql stable as $$ select count(*) from public.projects $$;\n";
    await db.sql.unsafe(fn.replace("count(*)", "count(*) + 0"));
    writeFileSync(join(project, "supabase/migrations/20260102000000_project_count.sql"), fn);

    const { reports, steps } = followAdvice(project, db.url);
    expect(reports[0].actions.map((a) => a.command)).toContain("drift-guard fetch --live-definitions 20260102000000");
    expect(steps.some((s) => /^drift-guard repair --mark-applied 20260102000000 \d{14} --force-different/.test(s.command))).toBe(true);
    await assertConverged(project, db);
  });
});

function execGit(dir: string) {
  for (const args of [["init", "-q"], ["add", "-A"], ["-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qm", "init"]]) {
    const r = spawnSyncGit(dir, args);
    if (r !== 0) throw new Error(`git ${args.join(" ")} failed`);
  }
}

function spawnSyncGit(dir: string, args: string[]): number {
  return spawnSync("git", ["-C", dir, ...args], { stdio: "ignore" }).status ?? -1;
}
