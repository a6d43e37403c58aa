/** --move and --squash as history ops, and how a replay verdict withholds a suggestion. */
import { describe, expect, it } from "vitest";
import { computeDrift } from "../shared/drift.ts";
import { historyAfter, planHistoryRepair } from "../shared/history_repair.ts";
import { historyRepairFlags, historyRepairRequest } from "../shared/history_repair_options.ts";
import { scenario, simulate, withoutReplay, withVerification } from "../shared/history_verification.ts";
import { parseMigrationFiles } from "../shared/migration_files.ts";
import { validateRepairRequest } from "../shared/repair_plan.ts";
import { splitStatements } from "../shared/sql_statements.ts";
import type { LocalMigration, RemoteMigration } from "../shared/types.ts";

const enc = new TextEncoder();
const file = (version: string, name: string, sql: string): LocalMigration =>
  parseMigrationFiles([{ path: `supabase/migrations/${version}_${name}.sql`, fileName: `${version}_${name}.sql`, bytes: enc.encode(sql) }]).migrations[0];
const row = (version: string, name: string | null, sql: string): RemoteMigration => ({ version, name, statements: splitStatements(sql) });

const TODOS = "create table public.todos (id int);";
const local = [file("20260101000000", "init", "create table public.a (id int);"), file("20260102000000", "todos", TODOS)];
const remote = [row("20260101000000", "init", "create table public.a (id int);"), row("20260105093000", "agent_todos", `-- by an agent\n${TODOS}`)];

describe("--move", () => {
  it("deletes the row and inserts the file's version, name and statements; the history then pairs every file", () => {
    const plan = planHistoryRepair({ move: { from: "20260105093000", to: "20260102000000" }, reason: "agent" }, local, remote);
    expect(plan.changes.map((c) => [c.op, c.version, c.name])).toEqual([["delete", "20260105093000", "agent_todos"], ["insert", "20260102000000", "todos"]]);
    expect(plan.dry_run).toBe(true);
    const after = computeDrift({ local, remote: historyAfter(remote, plan.changes) });
    expect(after.status).toBe("in_sync");
  });

  it("refuses a row whose SQL is not the file's, a version the history has, and a file that does not exist", () => {
    const other = [...remote, row("20260106000000", "x", "create table public.x (id int);")];
    expect(() => planHistoryRepair({ move: { from: "20260106000000", to: "20260102000000" }, reason: "r" }, local, other)).toThrow(/does not hold the SQL/);
    expect(() => planHistoryRepair({ move: { from: "20260105093000", to: "20260101000000" }, reason: "r" }, local, remote)).toThrow(/already in the history/);
    expect(() => planHistoryRepair({ move: { from: "20260105093000", to: "20260109000000" }, reason: "r" }, local, remote)).toThrow(/no local migration file/);
    expect(() => planHistoryRepair({ move: { from: "1; drop", to: "20260102000000" }, reason: "r" }, local, remote)).toThrow(/not a migration version/);
  });

  it("the flags go in pairs and print back as given", () => {
    expect(() => historyRepairRequest({ move: "1" })).toThrow(/--move and --to go together/);
    expect(() => historyRepairRequest({ squash: ["1"] })).toThrow(/--squash and --into go together/);
    expect(historyRepairFlags({ move: "1", to: "2" })).toBe("--move 1 --to 2");
    expect(() => validateRepairRequest({ markApplied: ["1"], move: { from: "2", to: "3" }, reason: "r" })).toThrow(/alone/);
    expect(validateRepairRequest({ move: { from: "2", to: "3" }, reason: "r" }).reason).toBe("r");
  });
});

describe("--squash", () => {
  const squashFile = file("20260103000000", "squash", "create table public.a (id int);\ncreate table public.b (id int);");
  const rows = [row("20260101000000", "a", "create table public.a (id int);"), row("20260102000000", "b", "create table public.b (id int);"), row("20260103000000", "squash", "select 1")];
  it("deletes the folded rows and records the file (update: it is in the history), in one plan", () => {
    const plan = planHistoryRepair({ squash: { rows: ["20260101000000", "20260102000000"], into: ["20260103000000"] }, reason: "squash" }, [squashFile], rows);
    expect(plan.changes.map((c) => [c.op, c.version])).toEqual([["delete", "20260101000000"], ["delete", "20260102000000"], ["update", "20260103000000"]]);
    expect(computeDrift({ local: [squashFile], remote: historyAfter(rows, plan.changes) }).status).toBe("in_sync");
  });
  it("refuses to delete a row that has a file", () => {
    expect(() => planHistoryRepair({ squash: { rows: ["20260103000000"], into: ["20260103000000"] }, reason: "r" }, [squashFile], rows)).toThrow(/also listed/);
    const withFile = [squashFile, file("20260101000000", "a", "create table public.a (id int);")];
    expect(() => planHistoryRepair({ squash: { rows: ["20260101000000"], into: ["20260103000000"] }, reason: "r" }, withFile, rows)).toThrow(/has a local file/);
  });
});

describe("verification", () => {
  it("the repaired project of a moved finding records every file, so its whole replay is compared", () => {
    const report = computeDrift({ local, remote });
    expect(scenario(local, remote).comparePrefix).toBe(1);
    expect(simulate(report.findings, local, remote)?.comparePrefix).toBe(2);
  });

  it("a suggestion whose replay differs loses its command and its action, and the report says why", () => {
    const report = computeDrift({ local, remote });
    const differs = { status: "differs" as const, migrations: 2, summary: "differs from live (table public.todos: body differs)" };
    const out = withVerification(report, report.findings.map((f) => ({ ...f, verification: differs })), { status: "ok", migrations: 2, summary: "ok (2 migrations, equals live)" });
    expect(out.findings[0].command).toBeNull();
    expect(out.findings[0].explain).toContain("NOT OFFERED");
    expect(out.findings[0].explain).toContain("table public.todos");
    expect(out.actions.map((a) => a.kind)).not.toContain("move_history");
    expect(out.replay?.summary).toBe("ok (2 migrations, equals live)");
  });

  it("without a replay (the shadow did not start) no repair is printed unverified, and the report says why", () => {
    const out = withoutReplay(computeDrift({ local, remote }), "PGlite could not start");
    expect(out.findings[0].command).toBeNull();
    expect(out.actions.map((a) => a.kind)).not.toContain("move_history");
    expect(out.replay).toMatchObject({ status: "skipped" });
    expect(out.problems.map((p) => p.message)).toContain("PGlite could not start");
  });

  it("a verified suggestion keeps its command", () => {
    const report = computeDrift({ local, remote });
    const ok = { status: "ok" as const, migrations: 2, summary: "ok (2 migrations, equals live)" };
    const out = withVerification(report, report.findings.map((f) => ({ ...f, verification: ok })), ok);
    expect(out.actions.map((a) => a.kind)).toEqual(["move_history"]);
  });
});
