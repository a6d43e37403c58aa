/** Whole-history matching: moved, squashed, renumber and ambiguous findings, and the advice they replace. */
import { describe, expect, it } from "vitest";
import { computeDrift } from "../shared/drift.ts";
import { matchHistory, nextVersion } from "../shared/history_matching.ts";
import { parseMigrationFiles } from "../shared/migration_files.ts";
import { splitStatements } from "../shared/sql_statements.ts";
import type { Evidence, LocalMigration, RemoteMigration } from "../shared/types.ts";

const enc = new TextEncoder();
const file = (version: string, name: string, sql: string): LocalMigration =>
  parseMigrationFiles([{ path: `supabase/migrations/${version}_${name}.sql`, fileName: `${version}_${name}.sql`, bytes: enc.encode(sql) }]).migrations[0];
const row = (version: string, name: string | null, sql: string): RemoteMigration => ({ version, name, statements: splitStatements(sql) });
const absent: Evidence = { verdict: "absent", basis: "definition", objects: [] };
const base = { migrationsDir: "supabase/migrations", dirFlag: "" };

const TODOS = "create table public.todos (id bigint primary key, title text);\nalter table public.todos enable row level security;\n";

describe("moved", () => {
  it("the agent re-versioned a committed file: one moved finding, no fetch and no mark-applied", () => {
    const local = [file("20260101000000", "init", "create table public.a (id int);"), file("20260102000000", "todos", TODOS)];
    const remote = [row("20260101000000", "init", "create table public.a (id int);"), row("20260105093000", "todos", TODOS)];
    const report = computeDrift({ local, remote });
    expect(report.findings).toEqual([expect.objectContaining({ kind: "moved", from: ["20260105093000"], to: "20260102000000", versions: ["20260102000000", "20260105093000"] })]);
    expect(report.findings[0].command).toBe(`drift-guard repair --move 20260105093000 --to 20260102000000 --reason "<why>"`);
    expect(report.actions.map((a) => a.kind)).toEqual(["move_history"]);
    // The six states stay what they were.
    expect(report.summary).toMatchObject({ remote_only: 1, out_of_order: 1 });
  });

  it("the agent also renamed it: still moved, and the other way names the recorded file", () => {
    const local = [file("20260102000000", "todos", TODOS)];
    const remote = [row("20260101000000", "x", "select 1"), row("20260105093000", "create_todos_table", TODOS)];
    const [f] = matchHistory({ ...base, local, remote }).findings;
    expect(f.kind).toBe("moved");
    expect(f.explain).toContain('named "create_todos_table"');
    expect(f.explain).toContain("git mv supabase/migrations/20260102000000_todos.sql supabase/migrations/20260105093000_create_todos_table.sql");
  });

  it("two moved at once: two findings", () => {
    const local = [file("20260102000000", "a", "create table public.a (id int);"), file("20260103000000", "b", "create table public.b (id int);")];
    const remote = [row("20260105000000", "a", "create table public.a (id int);"), row("20260106000000", "b", "create table public.b (id int);")];
    expect(matchHistory({ ...base, local, remote }).findings.map((f) => [f.kind, f.from[0], f.to])).toEqual([
      ["moved", "20260105000000", "20260102000000"],
      ["moved", "20260106000000", "20260103000000"],
    ]);
  });

  it("the same SQL under three versions is ambiguous: no repair, no other advice for them", () => {
    const local = [file("20260102000000", "todos", TODOS)];
    const remote = [row("20260105000000", "todos", TODOS), row("20260106000000", "todos_again", TODOS)];
    const report = computeDrift({ local, remote });
    expect(report.findings).toEqual([expect.objectContaining({ kind: "ambiguous", command: null, versions: ["20260102000000", "20260105000000", "20260106000000"] })]);
    expect(report.actions).toEqual([]);
  });
});

describe("squashed", () => {
  const squash = file("20260110000000", "squash", "create table public.a (id int);\ncreate table public.b (id int);\ncreate table public.c (id int);\n");
  it("rows without files whose objects the squash file builds: one squashed finding, no fetch, no restore", () => {
    const remote = [row("20260101000000", "a", "create table public.a (id int);"), row("20260102000000", "b", "create table public.b (id int);"), row("20260110000000", "squash", "create table public.c (id int);")];
    const report = computeDrift({ local: [squash], remote });
    expect(report.findings).toEqual([expect.objectContaining({ kind: "squashed", from: ["20260101000000", "20260102000000"], to: "20260110000000" })]);
    expect(report.findings[0].command).toBe(`drift-guard repair --squash 20260101000000 20260102000000 --into 20260110000000 --reason "<why>"`);
    expect(report.actions.map((a) => a.kind)).toEqual(["record_squash"]);
  });

  it("a squash that left an object out: the first step writes the file that records it, naming it", () => {
    const remote = [row("20260101000000", "a", "create table public.a (id int);\ncreate table public.z (id int);"), row("20260102000000", "b", "create table public.b (id int);"), row("20260110000000", "squash", "create table public.c (id int);")];
    const [f] = matchHistory({ ...base, local: [squash], remote }).findings;
    expect(f).toMatchObject({ kind: "squashed", command: "drift-guard fetch --live-definitions 20260110000000", to: "20260110000000", into: ["20260110000000"] });
    expect(f.explain).toContain("table public.z");
  });

  it("with the file that records what the squash left live, the squash records both", () => {
    const remote = [row("20260101000000", "a", "create table public.a (id int);\ncreate table public.z (id int);"), row("20260102000000", "b", "create table public.b (id int);"), row("20260110000000", "squash", "create table public.c (id int);")];
    const companion = file("20260110000001", "record_live_definitions_20260110000000", "create table public.z (id int);");
    const report = computeDrift({ local: [squash, companion], remote });
    expect(report.findings).toEqual([expect.objectContaining({ kind: "squashed", into: ["20260110000000", "20260110000001"], versions: ["20260101000000", "20260102000000", "20260110000000", "20260110000001"] })]);
    expect(report.findings[0].command).toBe(`drift-guard repair --squash 20260101000000 20260102000000 --into 20260110000000 20260110000001 --reason "<why>"`);
    expect(report.actions.map((a) => a.kind)).toEqual(["record_squash"]);
  });

  it("a squash file that also builds what no row did matches only partly: ambiguous, no repair, naming it", () => {
    const remote = [row("20260101000000", "a", "create table public.a (id int);"), row("20260102000000", "b", "create table public.b (id int);"), row("20260110000000", "squash", "create table public.c (id int);")];
    const grown = file("20260110000000", "squash", squash.statements.join("\n") + "\ncreate table public.new_one (id int);\n");
    const report = computeDrift({ local: [grown], remote });
    expect(report.findings).toEqual([expect.objectContaining({ kind: "ambiguous", command: null, to: "20260110000000" })]);
    expect(report.findings[0].explain).toContain("table public.new_one");
    expect(report.actions).toEqual([]);
  });
});

describe("renumber", () => {
  const local = [
    file("20260101000000", "init", "create table public.customers (id int primary key);"),
    file("20260102000000", "invoice_lines", "create table public.invoice_lines (id int, invoice_id int references public.invoices (id));"),
    file("20260103000000", "invoices", "create table public.invoices (id int primary key);"),
  ];
  const remote = [row("20260101000000", "init", "create table public.customers (id int primary key);"), row("20260103000000", "invoices", "create table public.invoices (id int primary key);")];

  it("an out-of-order file that never ran and uses a newer migration's table: renumber after the newest applied", () => {
    const report = computeDrift({ local, remote, evidence: new Map([["20260102000000", absent]]) });
    expect(report.findings).toEqual([expect.objectContaining({ kind: "renumber", from: ["20260102000000"], to: "20260103000001" })]);
    expect(report.findings[0].command).toBe("git mv supabase/migrations/20260102000000_invoice_lines.sql supabase/migrations/20260103000001_invoice_lines.sql");
    expect(report.actions.map((a) => a.kind)).toEqual(["renumber_file"]);
  });

  it("evidence unknown (the shadow could not replay it) with every object missing live also counts as never ran", () => {
    const unknown: Evidence = { verdict: "unknown", basis: "definition", reason: "the shadow cannot replay it", objects: [{ kind: "table", name: "public.invoice_lines", present: false }] };
    expect(computeDrift({ local, remote, evidence: new Map([["20260102000000", unknown]]) }).findings.map((f) => f.kind)).toEqual(["renumber"]);
    const half: Evidence = { ...unknown, objects: [{ kind: "table", name: "public.invoice_lines", present: true }] };
    expect(computeDrift({ local, remote, evidence: new Map([["20260102000000", half]]) }).findings).toEqual([]);
  });

  it("without evidence that it never ran, or without a dependency, no renumber", () => {
    expect(computeDrift({ local, remote }).findings).toEqual([]);
    const independent = [local[0], file("20260102000000", "notes", "create table public.notes (id int);"), local[2]];
    expect(computeDrift({ local: independent, remote, evidence: new Map([["20260102000000", absent]]) }).findings).toEqual([]);
  });

  it("a mention inside a comment or a string is no dependency", () => {
    const quiet = [local[0], file("20260102000000", "notes", "-- before invoices\ncreate table public.notes (id int, note text default 'invoices');"), local[2]];
    expect(computeDrift({ local: quiet, remote, evidence: new Map([["20260102000000", absent]]) }).findings).toEqual([]);
  });

  it("nextVersion keeps the width and skips taken versions", () => {
    expect(nextVersion("20260103000000", new Set(["20260103000001"]))).toBe("20260103000002");
    expect(nextVersion("009", new Set())).toBe("010");
  });
});

describe("a saved schema-diff suggestion", () => {
  it("a pending file whose objects are identical live is marked applied, never pushed: table and next step agree", () => {
    const local = [file("20260101000000", "init", "create table public.a (id int);"), file("20260105000000", "remote_schema", "alter table public.a add column note text;")];
    const remote = [row("20260101000000", "init", "create table public.a (id int);")];
    const identical: Evidence = { verdict: "identical", basis: "definition", objects: [] };
    const report = computeDrift({ local, remote, evidence: new Map([["20260105000000", identical]]) });
    expect(report.actions.map((a) => a.kind)).toEqual(["mark_applied"]);
    expect(report.actions[0].command).toBe(`drift-guard repair --mark-applied 20260105000000 --reason "<why>"`);
  });
});
