/** The drift engine, state by state, as the contract's table defines them. */
import { describe, expect, it } from "vitest";
import { historyDigest, statementsChecksum } from "../shared/checksum.ts";
import { computeDrift } from "../shared/drift.ts";
import { parseMigrationFiles } from "../shared/migration_files.ts";
import type { LocalMigration, RemoteMigration } from "../shared/types.ts";

const enc = new TextEncoder();
const local = (version: string, name: string, sql: string): LocalMigration =>
  parseMigrationFiles([{ path: `supabase/migrations/${version}_${name}.sql`, fileName: `${version}_${name}.sql`, bytes: enc.encode(sql) }]).migrations[0];
const remote = (version: string, name: string | null, statements: string[] | null): RemoteMigration => ({ version, name, statements });

describe("states", () => {
  const table: Array<[string, LocalMigration[], RemoteMigration[] | null, string, string]> = [
    ["in_sync: same name, same checksum", [local("1", "a", "select 1;")], [remote("1", "a", ["select 1"])], "1", "in_sync"],
    ["in_sync ignores comments and whitespace", [local("1", "a", "-- hi\nselect   1 ;")], [remote("1", "a", ["-- hi\nselect 1"])], "1", "in_sync"],
    ["edited: checksum differs", [local("1", "a", "select 2;")], [remote("1", "a", ["select 1"])], "1", "edited"],
    ["renamed: same checksum, other name", [local("1", "b", "select 1;")], [remote("1", "a", ["select 1"])], "1", "renamed"],
    ["pending: local only, newer than newest remote", [local("1", "a", "select 1;"), local("3", "c", "select 3;")], [remote("1", "a", ["select 1"])], "3", "pending"],
    ["out_of_order: local only, older than newest remote", [local("2", "b", "select 2;"), local("3", "c", "select 3;")], [remote("3", "c", ["select 3"])], "2", "out_of_order"],
    ["remote_only: applied, no file", [], [remote("5", "e", ["select 5"])], "5", "remote_only"],
    ["no history table: all local is pending", [local("1", "a", "select 1;")], null, "1", "pending"],
    ["null statements, same name: in_sync (with a warning)", [local("1", "a", "select 1;")], [remote("1", "a", null)], "1", "in_sync"],
    ["null name is the empty name", [local("1", "", "select 1;")], [remote("1", null, ["select 1"])], "1", "in_sync"],
    ["a version-only row (no name, no statements): in_sync, with a warning", [local("1", "a", "select 1;")], [remote("1", null, null)], "1", "in_sync"],
    ["no statements but another name: renamed", [local("1", "a", "select 1;")], [remote("1", "b", null)], "1", "renamed"],
  ];
  it.each(table)("%s", (_, l, r, version, state) => {
    const report = computeDrift({ local: l, remote: r });
    expect(report.migrations.find((m) => m.version === version)?.state).toBe(state);
  });
});

describe("report", () => {
  const l = [local("20240101000000", "a", "select 1;"), local("20240101000001", "b", "select 2;")];
  const r = [remote("20240101000000", "a", ["select 1"]), remote("20240101000002", "c", ["select 3"])];
  const report = computeDrift({ local: l, remote: r });

  it("summary always has all six keys", () => {
    expect(report.summary).toEqual({ in_sync: 1, edited: 0, renamed: 0, pending: 0, out_of_order: 1, remote_only: 1 });
    expect(computeDrift({ local: [], remote: [] }).summary).toEqual({ in_sync: 0, edited: 0, renamed: 0, pending: 0, out_of_order: 0, remote_only: 0 });
  });
  it("status is drift when any version is not in_sync", () => {
    expect(report.status).toBe("drift");
    expect(computeDrift({ local: [l[0]], remote: [r[0]] }).status).toBe("in_sync");
  });
  it("carries the history digest and both checksums", () => {
    expect(report.history_digest).toBe(historyDigest(r));
    expect(report.migrations[0].remote?.checksum).toBe(statementsChecksum(["select 1"]));
    expect(report.migrations[0].local?.checksum).toBe(report.migrations[0].remote?.checksum);
  });
  it("warns when a history row has no statements", () => {
    const w = computeDrift({ local: [l[0]], remote: [remote("20240101000000", "a", null)] });
    expect(w.problems).toEqual([expect.objectContaining({ level: "warning", message: expect.stringContaining("no statements") })]);
    expect(w.migrations[0].remote?.checksum).toBeNull();
  });
});

describe("actions say what the CLI's repair statuses really do", () => {
  it("remote-only: fetch, and never a blind revert", () => {
    const report = computeDrift({ local: [], remote: [remote("7", "x", ["select 1"])] });
    const fetch = report.actions.find((a) => a.kind === "fetch")!;
    expect(fetch.command).toBe("drift-guard fetch");
    expect(fetch.versions).toEqual(["7"]);
    expect(fetch.explain).toMatch(/--status reverted.*DELETES the history/);
  });
  it("out-of-order: mark applied records without running SQL; or push --include-all", () => {
    const report = computeDrift({ local: [local("1", "a", "create table t(id int);")], remote: [remote("2", "b", [])] });
    const actions = report.actions.filter((a) => a.versions.includes("1"));
    expect(actions.map((a) => a.kind)).toEqual(["mark_applied", "push_include_all"]);
    expect(actions[0].explain).toMatch(/without running any SQL/);
    expect(actions[0].command).toBe('drift-guard repair --mark-applied 1 --reason "<why>"');
    expect(actions[1].command).toBe("supabase db push --include-all");
  });
  it("evidence decides between the two: identical definitions mark it applied", () => {
    const evidence = new Map([["1", { verdict: "identical" as const, basis: "definition" as const, objects: [{ kind: "table", name: "public.t", present: true, state: "identical" as const }] }]]);
    const report = computeDrift({ local: [local("1", "a", "create table t(id int);")], remote: [remote("2", "b", [])], evidence });
    const actions = report.actions.filter((a) => a.versions.includes("1"));
    expect(actions.map((a) => a.kind)).toEqual(["mark_applied"]);
    expect(actions[0].explain).toMatch(/^What these build is identical to the live database/);
    expect(report.migrations[0].evidence?.verdict).toBe("identical");
  });
  it("present by name only never suggests marking it applied: compare definitions first", () => {
    const evidence = new Map([["1", { verdict: "present" as const, basis: "name" as const, objects: [{ kind: "table", name: "public.t", present: true }] }]]);
    const report = computeDrift({ local: [local("1", "a", "create table t(id int);")], remote: [remote("2", "b", [])], evidence });
    const actions = report.actions.filter((a) => a.versions.includes("1"));
    expect(actions.map((a) => a.kind)).toEqual(["compare_definitions"]);
    expect(actions[0].command).toBe('drift-guard check --db-url "$SUPABASE_DB_URL"');
  });
  it("different: record the live definitions, then mark both applied with --force-different", () => {
    const evidence = new Map([["1", {
      verdict: "different" as const,
      basis: "definition" as const,
      objects: [{ kind: "function", name: "public.f", present: true, state: "different" as const, differences: ["function public.f(): body differs"] }],
      differences: ["function public.f(): body differs"],
      live_migration: { file: "supabase/migrations/20990101000000_record_live_definitions_1.sql", version: "20990101000000", sql: "create or replace function …", notes: [] },
    }]]);
    const report = computeDrift({ local: [local("1", "a", "create function f() returns int language sql as $$ select 2 $$;")], remote: [remote("2", "b", [])], evidence });
    const actions = report.actions.filter((a) => a.versions.includes("1"));
    expect(actions.map((a) => a.kind)).toEqual(["record_live_definition"]);
    expect(actions[0].explain).toContain("function public.f(): body differs");
    expect(actions[0].explain).toContain("1. save the SQL");
    expect(actions[0].explain).toContain("2. mark both applied");
    // The live definitions file does not exist yet: the command writes it (a repair naming it could not run).
    expect(actions[0].command).toBe("drift-guard fetch --live-definitions 1");
  });
  it("different, with the live definitions saved: mark both applied with --force-different, and the saved file gets no advice of its own", () => {
    const evidence = new Map([["1", {
      verdict: "different" as const,
      basis: "definition" as const,
      objects: [{ kind: "function", name: "public.f", present: true, state: "different" as const, differences: ["function public.f(): body differs"] }],
      differences: ["function public.f(): body differs"],
    }], ["20990101000000", { verdict: "identical" as const, basis: "definition" as const, objects: [] }]]);
    const files = [local("1", "a", "create function f() returns int language sql as $$ select 2 $$;"), local("20990101000000", "record_live_definitions_1", "create or replace function f() returns int language sql as $$ select 1 $$;")];
    const report = computeDrift({ local: files, remote: [remote("2", "b", [])], evidence });
    expect(report.actions.map((a) => a.kind)).toEqual(["fetch", "record_live_definition"]);
    expect(report.actions[1].explain).toContain("2. mark both applied");
    expect(report.actions[1].command).toBe('drift-guard repair --mark-applied 1 20990101000000 --force-different --reason "<why>"');
  });
  it.each(["partial", "unknown"] as const)("%s: review by hand, no ready-made mark-applied", (verdict) => {
    const evidence = new Map([["1", { verdict, basis: "definition" as const, reason: "statement 1 (do …) not understood", objects: [] }]]);
    const report = computeDrift({ local: [local("1", "a", "do $$ begin end $$;")], remote: [remote("2", "b", [])], evidence });
    expect(report.actions.filter((a) => a.versions.includes("1")).map((a) => a.kind)).toEqual(["review_evidence"]);
  });
  it("pending: db push; renamed: git mv; edited: a new migration", () => {
    const report = computeDrift({
      local: [local("1", "new_name", "select 1;"), local("2", "b", "select 22;"), local("9", "c", "select 9;")],
      remote: [remote("1", "old_name", ["select 1"]), remote("2", "b", ["select 2"])],
      migrationsDir: "db/migrations",
    });
    expect(report.actions.find((a) => a.kind === "push")?.command).toBe("supabase db push");
    expect(report.actions.find((a) => a.kind === "rename_file")?.command).toBe("git mv supabase/migrations/1_new_name.sql db/migrations/1_old_name.sql");
    expect(report.actions.find((a) => a.kind === "restore_edited")?.versions).toEqual(["2"]);
  });
});

describe("migration files", () => {
  it("skips names the CLI skips, with a warning", () => {
    const parsed = parseMigrationFiles([
      { path: "m/README.md", fileName: "README.md", bytes: enc.encode("x") },
      { path: "m/abc_x.sql", fileName: "abc_x.sql", bytes: enc.encode("x") },
      { path: "m/1_x.sql", fileName: "1_x.sql", bytes: enc.encode("select 1") },
    ]);
    expect(parsed.migrations.map((m) => m.version)).toEqual(["1"]);
    expect(parsed.problems.map((p) => [p.level, p.file])).toEqual([["warning", "m/README.md"], ["warning", "m/abc_x.sql"]]);
  });
  it("duplicate versions are errors", () => {
    const parsed = parseMigrationFiles([
      { path: "m/1_a.sql", fileName: "1_a.sql", bytes: enc.encode("select 1") },
      { path: "m/1_b.sql", fileName: "1_b.sql", bytes: enc.encode("select 2") },
    ]);
    expect(parsed.problems.filter((p) => p.level === "error")).toHaveLength(2);
  });
  it("non-UTF-8 files are read with U+FFFD, as the Supabase CLI reads them, and warned about", () => {
    const parsed = parseMigrationFiles([{ path: "m/1_a.sql", fileName: "1_a.sql", bytes: new Uint8Array([0x73, 0xff, 0xfe]) }]);
    expect(parsed.migrations).toMatchObject([{ version: "1", statements: ["s\uFFFD\uFFFD"] }]);
    expect(parsed.problems).toEqual([expect.objectContaining({ level: "warning", message: expect.stringContaining("UTF-8") })]);
  });
  it("the name may be empty, as the CLI's rule allows", () => {
    const parsed = parseMigrationFiles([{ path: "m/1_.sql", fileName: "1_.sql", bytes: enc.encode("") }]);
    expect(parsed.migrations[0]).toMatchObject({ version: "1", name: "", statements: [] });
  });
});
