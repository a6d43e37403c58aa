/** `drift-guard check` and `manifest build` from a user's seat: output, exit codes, bad input. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseManifest } from "../shared/manifest.ts";
import { createTestDatabase, databaseUrl, type TestDatabase } from "./harness/database.ts";
import { freePort } from "./harness/postgres.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";
import { LEGACY_SCHEMA_MIGRATIONS_DDL } from "./harness/schema_migrations.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("check_cli");
});
afterAll(() => db.drop());

describe("check", () => {
  it("a database without the history table: everything local is pending", async () => {
    const project = makeProject({ "1_a.sql": "select 1;", "2_b.sql": "select 2;" });
    const r = await runCli(["check", "--db-url", db.url, "--format", "json"], { cwd: project });
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.migrations.map((m: { state: string }) => m.state)).toEqual(["pending", "pending"]);
    expect(report.actions[0]).toMatchObject({ kind: "push", command: "supabase db push" });
  });

  it("a history table from an old CLI (version column only) is read, with a warning per unchecked row", async () => {
    const old = await createTestDatabase("legacy_table");
    await old.sql.unsafe(`${LEGACY_SCHEMA_MIGRATIONS_DDL}
      insert into supabase_migrations.schema_migrations values ('1'), ('3');`);
    const r = await runCli(["check", "--db-url", old.url, "--format", "json"], { cwd: makeProject({ "1_a.sql": "select 1;", "2_b.sql": "select 2;" }) });
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.migrations.map((m: { version: string; state: string }) => [m.version, m.state])).toEqual([["1", "in_sync"], ["2", "out_of_order"], ["3", "remote_only"]]);
    expect(report.problems).toEqual([expect.objectContaining({ level: "warning", message: expect.stringContaining("no statements") })]);
    await old.drop();
  });

  it("in sync prints one line and exits 0; SUPABASE_DB_URL is the default", async () => {
    const fresh = await createTestDatabase("insync");
    const project = makeProject({ "20240101000000_a.sql": "create table a(id int);" });
    supabasePush(fresh.url, project);
    const r = await runCli(["check"], { cwd: project, env: { SUPABASE_DB_URL: fresh.url } });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toMatch(/^in sync: 1 migration\(s\) match the history/);
    await fresh.drop();
  });

  it("text output: verdict, counts, a table of only the drifted rows, next steps", async () => {
    const fresh = await createTestDatabase("text");
    const project = makeProject({ "20240101000000_a.sql": "create table a(id int);", "20240102000000_b.sql": "create table b(id int);" });
    supabasePush(fresh.url, project);
    writeFileSync(join(project, "supabase/migrations/20240101000000_a.sql"), "create table a(id bigint);");
    writeFileSync(join(project, "supabase/migrations/20240103000000_c.sql"), "create table c(id int);");
    const r = await runCli(["check", "--db-url", fresh.url], { cwd: project });
    expect(r.status).toBe(1);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("drift: 2 of 3 migration(s) differ from the history");
    expect(lines[1]).toBe("in_sync 1 · edited 1 · renamed 0 · pending 1 · out_of_order 0 · remote_only 0");
    expect(r.stdout).toMatch(/VERSION\s+STATE\s+NAME\s+DETAIL/);
    expect(r.stdout).toMatch(/20240101000000\s+edited\s+a\s+file changed/);
    expect(r.stdout).not.toMatch(/20240102000000/);
    expect(r.stdout).toMatch(/Next:[\s\S]*\$ supabase db push/);
    // No colour when stdout is not a terminal.
    expect(r.stdout).not.toMatch(/\x1b\[/);
    await fresh.drop();
  });

  it("a missing directory is bad input: exit 2", async () => {
    const r = await runCli(["check", "--db-url", db.url, "--migrations", "/nonexistent/dir"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/migrations directory \/nonexistent\/dir does not exist/);
  });

  it("duplicate versions are errors and a non-UTF-8 file a warning: report printed, exit 2", async () => {
    const project = makeProject({ "1_a.sql": new Uint8Array([0x73, 0xff, 0x3b]), "2_b.sql": "select 2;", "2_c.sql": "select 3;", "notes.txt": "x" });
    const r = await runCli(["check", "--db-url", db.url, "--format", "json"], { cwd: project });
    expect(r.status).toBe(2);
    const problems = JSON.parse(r.stdout).problems as Array<{ level: string; file: string; message: string }>;
    expect(problems).toEqual(expect.arrayContaining([
      expect.objectContaining({ level: "warning", file: "supabase/migrations/1_a.sql", message: expect.stringContaining("UTF-8") }),
      expect.objectContaining({ level: "error", file: "supabase/migrations/2_b.sql", message: expect.stringContaining("duplicate version 2") }),
      expect.objectContaining({ level: "warning", file: "supabase/migrations/notes.txt" }),
    ]));
  });

  it("an unreachable database: exit 3, the host shown", async () => {
    const port = await freePort();
    const r = await runCli(["check", "--db-url", `postgresql://postgres:hunter2secret@127.0.0.1:${port}/postgres`], { cwd: makeProject({}) });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`127.0.0.1:${port}`);
    expect(r.stderr + r.stdout).not.toContain("hunter2secret");
  });

  it("a wrong password: exit 3, never the password", async () => {
    const url = databaseUrl(db.name, "wrong-password-xyz");
    const r = await runCli(["check", "--db-url", url, "--format", "json"], { cwd: makeProject({}) });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/password authentication failed/);
    expect(r.stderr + r.stdout).not.toContain("wrong-password-xyz");
    expect(JSON.parse(r.stdout).error.code).toBe("unreachable");
  });

  it("usage errors exit 2", async () => {
    expect((await runCli(["check", "--no-such-flag"])).status).toBe(2);
    expect((await runCli(["check", "--format", "yaml", "--db-url", db.url])).status).toBe(2);
    const r = await runCli(["check"], { cwd: makeProject({}) });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/missing --db-url/);
    expect((await runCli(["no-such-command"])).status).toBe(2);
  });

  it("--help exits 0 and shows examples", async () => {
    const r = await runCli(["check", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Examples:/);
  });
});

describe("manifest build", () => {
  it("lists versions, names, checksums, statements and git provenance", async () => {
    const project = makeProject({ "1_a.sql": "select 1; select 2;", "2_b.sql": "-- c\n" });
    execFileSync("git", ["init", "-q", "-b", "main"], { cwd: project });
    execFileSync("git", ["-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x"], { cwd: project });
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: project, encoding: "utf8" }).trim();
    const out = join(mkdtempSync(join(tmpdir(), "dg-")), "manifest.json");
    const r = await runCli(["manifest", "build", "--out", out], { cwd: project });
    expect(r.status).toBe(0);
    const manifest = parseManifest(JSON.parse(readFileSync(out, "utf8")));
    expect(manifest.git).toEqual({ commit, branch: "main" });
    expect(manifest.migrations.map((m) => [m.version, m.name, m.statements])).toEqual([["1", "a", ["select 1", "select 2"]], ["2", "b", ["-- c"]]]);
  });

  it("outside a repository, git is null; to stdout by default", async () => {
    const r = await runCli(["manifest", "build"], { cwd: makeProject({ "1_a.sql": "select 1;" }) });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).git).toBeNull();
  });

  it("a malformed manifest gets one message per defect", async () => {
    expect(() => parseManifest({ format: "nope", migrations: [{ version: "x", checksum: "md5" }] })).toThrowError(
      /format: [\s\S]*generated_at: [\s\S]*migrations\[0\]\.version: [\s\S]*migrations\[0\]\.checksum/,
    );
  });
});
