/**
 * shared/environments.ts and shared/report_formats/matrix.ts without a database:
 * which URL a target name means, what is refused, the combined report, the findings
 * across environments, the exit code, and escaping in the matrix. Plus
 * cli/commands/check_targets.ts run in-process with its CliDeps.
 */
import { mkdtempSync, rmSync } from "node:fs";
import * as fsPromises from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../cli/commands/check_targets.ts";
import type { CliDeps } from "../cli/deps.ts";
import { openDatabase } from "../db/connect.ts";
import { computeDrift } from "../shared/drift.ts";
import {
  combineEnvironments,
  environmentsExitCode,
  envSuffix,
  parseFailOnTarget,
  parseTargetSpec,
  redactTarget,
  resolveTargets,
  type TargetOutcome,
} from "../shared/environments.ts";
import { parseMigrationFiles } from "../shared/migration_files.ts";
import { formatEnvironmentsMarkdown, formatEnvironmentsText } from "../shared/report_formats/matrix.ts";
import { splitStatements } from "../shared/sql_statements.ts";
import { readRemotes } from "../shared/supabase_config.ts";
import { DriftGuardError, type RemoteMigration } from "../shared/types.ts";

const usage = (fn: () => unknown): DriftGuardError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DriftGuardError);
    expect((err as DriftGuardError).exitCode).toBe(2);
    return err as DriftGuardError;
  }
  throw new Error("expected a usage error");
};

describe("target names and their variables", () => {
  it("upper-cased, - as _", () => {
    expect(envSuffix("preview-42")).toBe("PREVIEW_42");
    expect(resolveTargets({ specs: [{ name: "preview-42" }], allTargets: false, remotes: [], env: { DRIFT_GUARD_DB_URL_PREVIEW_42: "postgresql://h/db" } }))
      .toEqual([{ name: "preview-42", kind: "database", url: "postgresql://h/db", source: "DRIFT_GUARD_DB_URL_PREVIEW_42" }]);
  });

  it("a database variable beats a function one; a function takes its own token, else --token", () => {
    const env = { DRIFT_GUARD_DB_URL_QA: "postgres://h/db", DRIFT_GUARD_URL_QA: "https://x.supabase.co/functions/v1/migration-drift", DRIFT_GUARD_URL_DEV: "https://d.supabase.co/functions/v1/migration-drift", DRIFT_GUARD_TOKEN_DEV: "dg_dev" };
    const [qa, dev, ci] = resolveTargets({
      specs: [{ name: "qa" }, { name: "dev" }, { name: "ci", url: "https://c.supabase.co/functions/v1/migration-drift" }],
      allTargets: false,
      remotes: [],
      env,
      token: "dg_flag",
    });
    expect(qa).toMatchObject({ kind: "database", source: "DRIFT_GUARD_DB_URL_QA" });
    expect(dev).toMatchObject({ kind: "function", token: "dg_dev", tokenSource: "DRIFT_GUARD_TOKEN_DEV" });
    expect(ci).toMatchObject({ kind: "function", token: "dg_flag", tokenSource: "--token", source: "--target ci=…" });
  });

  it("production also reads SUPABASE_DB_URL, else DRIFT_GUARD_URL with DRIFT_GUARD_TOKEN; an empty variable is unset", () => {
    const one = (env: Record<string, string>) => resolveTargets({ specs: [{ name: "production" }], allTargets: false, remotes: [], env })[0];
    expect(one({ SUPABASE_DB_URL: "postgresql://p/db", DRIFT_GUARD_URL: "https://p.supabase.co/f", DRIFT_GUARD_TOKEN: "t" })).toMatchObject({ kind: "database", source: "SUPABASE_DB_URL" });
    expect(one({ SUPABASE_DB_URL: "", DRIFT_GUARD_URL: "https://p.supabase.co/f", DRIFT_GUARD_TOKEN: "t" })).toMatchObject({ kind: "function", source: "DRIFT_GUARD_URL", tokenSource: "DRIFT_GUARD_TOKEN" });
    expect(one({ DRIFT_GUARD_DB_URL_PRODUCTION: "postgresql://x/db", SUPABASE_DB_URL: "postgresql://p/db" })).toMatchObject({ source: "DRIFT_GUARD_DB_URL_PRODUCTION" });
  });

  it("--all-targets: every remote, production only when its URL is set, and --target entries override without duplicating", () => {
    const remotes = [{ name: "staging", project_id: "abcdefghijklmnopqrst" }, { name: "dev" }];
    const env = { DRIFT_GUARD_DB_URL_STAGING: "postgresql://s/db", DRIFT_GUARD_DB_URL_DEV: "postgresql://d/db" };
    expect(resolveTargets({ specs: [], allTargets: true, remotes, env }).map((t) => t.name)).toEqual(["staging", "dev"]);
    expect(resolveTargets({ specs: [], allTargets: true, remotes, env: { ...env, SUPABASE_DB_URL: "postgresql://p/db" } }).map((t) => t.name)).toEqual(["staging", "dev", "production"]);
    const overridden = resolveTargets({ specs: [{ name: "dev", url: "postgresql://other/db" }], allTargets: true, remotes, env });
    expect(overridden.map((t) => [t.name, t.source])).toEqual([["dev", "--target dev=…"], ["staging", "DRIFT_GUARD_DB_URL_STAGING"]]);
    expect(usage(() => resolveTargets({ specs: [], allTargets: true, remotes: [], env: {} })).message).toContain("--all-targets found no target");
    expect(usage(() => resolveTargets({ specs: [], allTargets: true, remotes: [{ name: "feature/x" }], env: {} })).message).toBe("supabase/config.toml [remotes.<name>]: (not shown: it looks like a URL or holds characters a name cannot) is not a valid target name");
    expect(usage(() => resolveTargets({ specs: [], allTargets: true, remotes: [{ name: "eu.prod" }], env: {} })).message).toContain('"eu.prod" is not a valid target name');
  });

  it("refuses bad names, twice-given names, and URLs without a name, never quoting the URL", () => {
    expect(usage(() => parseTargetSpec("1st=postgresql://u:pw@h/db")).message).toBe('--target: "1st" is not a valid target name');
    const urlAsName = usage(() => parseTargetSpec("postgresql://u:hunter2@h/db"));
    expect(urlAsName.message).not.toContain("hunter2");
    const weird = usage(() => parseTargetSpec("a@b:hunter2=x"));
    expect(weird.message).not.toContain("hunter2");
    expect(usage(() => parseTargetSpec("dev=")).message).toContain("--target dev= has an empty URL");
    expect(usage(() => resolveTargets({ specs: [{ name: "Dev", url: "postgresql://a/b" }, { name: "dev", url: "postgresql://a/c" }], allTargets: false, remotes: [], env: {} })).message)
      .toBe("--target Dev and --target dev are the same target (both read DRIFT_GUARD_DB_URL_DEV)");
    expect(parseFailOnTarget("production=remote_only, edited")).toEqual({ name: "production", states: ["remote_only", "edited"] });
    expect(usage(() => parseFailOnTarget("production")).message).toContain("NAME=STATE");
    expect(usage(() => parseFailOnTarget("production=in_sync")).message).toContain('not "in_sync"');
  });

  it("redacts a target's URL, password, host and token from messages", () => {
    const target = { url: "postgresql://postgres:p%40ss@db.abcdefghijklmnopqrst.supabase.co:6543/postgres", token: "dg_abc_secret", source: "DRIFT_GUARD_DB_URL_STAGING" };
    const out = redactTarget("cannot reach the database at db.abcdefghijklmnopqrst.supabase.co:6543/postgres; p@ss; dg_abc_secret; db.abcdefghijklmnopqrst.supabase.co", target);
    expect(out).toBe("cannot reach the database at (the URL in DRIFT_GUARD_DB_URL_STAGING); (the URL in DRIFT_GUARD_DB_URL_STAGING); (the URL in DRIFT_GUARD_DB_URL_STAGING); (the URL in DRIFT_GUARD_DB_URL_STAGING)");
  });

  it("reads [remotes.<name>] tables and their project_id; no remotes is none", () => {
    expect(readRemotes(`project_id = "x"\n[remotes.staging]\nproject_id = "abc"\n[remotes.staging.db.seed]\nenabled = true\n[remotes.dev]\n`)).toEqual([{ name: "staging", project_id: "abc" }, { name: "dev" }]);
    expect(readRemotes(`project_id = "x"\n`)).toEqual([]);
    expect(() => readRemotes("[remotes\n")).toThrow(/not valid TOML at line 1/);
  });
});

/** A target's report from files and rows, by the core that every adapter uses. */
function reportFor(files: Record<string, string>, rows: Record<string, string>) {
  const parsed = parseMigrationFiles(Object.entries(files).map(([fileName, sql]) => ({ path: `supabase/migrations/${fileName}`, fileName, bytes: new TextEncoder().encode(sql) })));
  const remote: RemoteMigration[] = Object.entries(rows).map(([file, sql]) => {
    const [version, ...rest] = file.replace(/\.sql$/, "").split("_");
    return { version, name: rest.join("_"), statements: splitStatements(sql) };
  });
  return computeDrift({ local: parsed.migrations, remote, problems: parsed.problems });
}

const FILES = { "1_a.sql": "create table a();", "2_b.sql": "create table b();", "3_c.sql": "create table c();" };

describe("the combined report", () => {
  const outcomes = (): TargetOutcome[] => [
    { name: "production", kind: "database", source: "SUPABASE_DB_URL", report: reportFor(FILES, { "1_a.sql": FILES["1_a.sql"], "2_b.sql": "create table b(x int);" }) },
    { name: "staging", kind: "database", source: "DRIFT_GUARD_DB_URL_STAGING", report: reportFor(FILES, { ...FILES, "4_hotfix.sql": "create index i on a();" }) },
    { name: "dev", kind: "function", source: "DRIFT_GUARD_URL_DEV", report: reportFor(FILES, FILES) },
    { name: "qa", kind: "database", source: "DRIFT_GUARD_DB_URL_QA", error: { code: "unreachable", message: "cannot reach the database at (the URL in DRIFT_GUARD_DB_URL_QA)" } },
  ];

  it("states per version and target: absent where a target has neither file nor row, unknown where it was not reached", () => {
    const report = combineEnvironments(outcomes(), {});
    expect(report.versions.map((v) => [v.version, v.states])).toEqual([
      ["1", { production: "in_sync", staging: "in_sync", dev: "in_sync", qa: "unknown" }],
      ["2", { production: "edited", staging: "in_sync", dev: "in_sync", qa: "unknown" }],
      ["3", { production: "pending", staging: "in_sync", dev: "in_sync", qa: "unknown" }],
      ["4", { production: "absent", staging: "remote_only", dev: "absent", qa: "unknown" }],
    ]);
    expect(report.in_sync_everywhere).toBe(1);
    expect(report.status).toBe("drift");
    expect(environmentsExitCode(report)).toBe(3);
  });

  it("findings: applied elsewhere but not here (with the file), a hotfix only one target has, and content that differs", () => {
    const { findings } = combineEnvironments(outcomes(), {});
    expect(findings.map((f) => [f.kind, f.version, f.on, f.missing_on ?? null])).toEqual([
      ["content_differs", "2", ["production", "staging", "dev"], null],
      ["not_applied", "3", ["staging", "dev"], ["production"]],
      ["hotfix", "4", ["staging"], ["production", "dev"]],
    ]);
    const differs = findings[0];
    expect(differs.checksums!.map((c) => [c.targets, c.matches_file])).toEqual([[["production"], false], [["staging", "dev"], true]]);
    expect(findings[1].file).toBe("supabase/migrations/3_c.sql");
  });

  it("--fail-on per target, --fail-on-target for one; the exit code follows the targets that fail", () => {
    const reached = outcomes().slice(0, 3);
    expect(environmentsExitCode(combineEnvironments(reached, {}))).toBe(1);
    const tolerant = combineEnvironments(reached, { failOn: ["remote_only", "edited"], failOnTarget: { production: ["remote_only"], staging: ["edited"] } });
    expect(tolerant.targets.map((t) => [t.name, t.fails])).toEqual([["production", false], ["staging", false], ["dev", false]]);
    expect(environmentsExitCode(tolerant)).toBe(0);
    expect(environmentsExitCode(combineEnvironments([reached[2]], {}))).toBe(0);
  });

  it("file errors exit 2 before anything else", () => {
    const broken = reportFor({ ...FILES, "3_again.sql": "select 1;" }, FILES);
    expect(broken.problems.some((p) => p.level === "error")).toBe(true);
    expect(environmentsExitCode(combineEnvironments([{ name: "dev", kind: "database", source: "x", report: broken }, outcomes()[3]], {}))).toBe(2);
  });

  it("the matrix escapes names from the database: no terminal control, no Markdown markup", () => {
    const evil = "x\x1b]8;;https://e.invalid\x07|<img src=x>";
    const report = combineEnvironments([
      { name: "production", kind: "database", source: "SUPABASE_DB_URL", report: reportFor(FILES, { ...FILES, [`5_${evil}.sql`]: "select 1;" }) },
      { name: "dev", kind: "database", source: "DRIFT_GUARD_DB_URL_DEV", report: reportFor(FILES, FILES) },
    ], {});
    const text = formatEnvironmentsText(report);
    expect(text).not.toContain("\x1b");
    expect(text).toContain("x\\x1b]8;;https://e.invalid\\x07|<img src=x>");
    const md = formatEnvironmentsMarkdown(report);
    expect(md).not.toContain("\x1b");
    const row = md.split("\n").find((l) => l.startsWith("| `5`"))!;
    // Five columns: version, name, production, dev (the pipe inside the name is escaped).
    expect(row.split(/(?<!\\)\|/).length).toBe(6);
  });
});

describe("check_targets run(deps, options) in-process", () => {
  it("writes the report to deps.stdout and reads no process state: an unreachable target and a bad directory", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "dg-targets-"));
    try {
      await fsPromises.mkdir(join(cwd, "supabase", "migrations"), { recursive: true });
      await fsPromises.writeFile(join(cwd, "supabase", "migrations", "1_a.sql"), "create table a();");
      let out = "";
      let err = "";
      const deps: CliDeps = {
        fs: fsPromises,
        openDatabase,
        stdout: { write: (s) => void (out += s) },
        stderr: { write: (s) => void (err += s) },
        // A closed loopback port (port 1): nothing leaves the machine.
        env: { DRIFT_GUARD_DB_URL_CLOSED: "postgresql://postgres:hunter2@127.0.0.1:1/postgres" },
        cwd,
        now: () => new Date("2026-01-01T00:00:00Z"),
        signal: new AbortController().signal,
      };
      const code = await run(deps, { targets: ["closed"], allTargets: false, migrations: "supabase/migrations", format: "json", evidence: false, failOnTarget: [] });
      expect(code).toBe(3);
      const report = JSON.parse(out);
      expect(report.targets[0]).toMatchObject({ name: "closed", status: "error", error: { code: "unreachable" } });
      expect(out + err).not.toContain("hunter2");
      expect(out + err).not.toContain("127.0.0.1:1");
      await expect(run(deps, { targets: ["closed"], allTargets: false, migrations: "nowhere", format: "json", evidence: false, failOnTarget: [] })).rejects.toMatchObject({ code: "bad_directory" });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
