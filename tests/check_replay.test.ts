/**
 * `check --replay`: the repository built from zero, as a preview branch builds it. A file
 * older than the one it depends on (parallel pull requests) fails with its file:line and
 * exits 1; alone it needs no database, beside --db-url it fails a check --fail-on passes.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./harness/cli_in_process.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const LINES = "20240101000000_invoice_lines.sql";
const INVOICES = "20240102000000_invoices.sql";
const SQL = {
  // The failing statement is on line 2: the comment is line 1.
  [LINES]: "-- an invoice's lines, from a pull request branched before invoices existed\ncreate table public.invoice_lines (id bigint primary key, invoice bigint references public.invoices);\n",
  [INVOICES]: "create table public.invoices (id bigint primary key);\n",
};
const FAILS_AT = `replay: fails at supabase/migrations/${LINES}:2 (statement 1): relation "public.invoices" does not exist`;

const made: string[] = [];
function project(files: Record<string, string>): string {
  const dir = makeProject(files);
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe("check --replay without a database", () => {
  it("an older file that uses a newer file's table: the first failing file:line, exit 1, in every format", async () => {
    const dir = project(SQL);
    const text = await runCli(["check", "--replay"], { cwd: dir });
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toContain(FAILS_AT);
    const json = await runCli(["check", "--replay", "--format", "json"], { cwd: dir });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: "failed", replay: { status: "failed", file: `supabase/migrations/${LINES}`, line: 2, migrations: 0 } });
    const markdown = await runCli(["check", "--replay", "--format", "markdown", "--output", "replay.md"], { cwd: dir });
    expect(markdown.code).toBe(1);
    expect(markdown.stdout).toContain(FAILS_AT);
    const junit = await runCli(["check", "--replay", "--format", "junit"], { cwd: dir });
    expect(junit.stdout).toContain(`<testcase name="replay" classname="drift-guard.replay" file="supabase/migrations/${LINES}">`);
    expect(junit.stdout).toContain('<failure type="replay"');
  });

  it("the same files in dependency order replay: exit 0", async () => {
    const dir = project({ "20240101000000_invoices.sql": SQL[INVOICES], "20240102000000_invoice_lines.sql": SQL[LINES] });
    const r = await runCli(["check", "--replay"], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toBe("replay: ok (2 migrations replay from zero on a fresh project)\n");
  });

  it("beside --target it is a usage error (exit 2): the repository replays once, not per target", async () => {
    const r = await runCli(["check", "--replay", "--target", "dev=postgresql://u:p@127.0.0.1:1/db"], { cwd: project(SQL) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--replay checks the repository once, not per target");
  });
});

describe("check --db-url … --replay", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("replay_order");
    // Production ran invoices; the older invoice_lines file arrives from a parallel branch.
    const pushed = makeProject({ [INVOICES]: SQL[INVOICES] });
    made.push(pushed);
    supabasePush(db.url, pushed);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("fails the check that --fail-on lets pass, with the replay in the report", async () => {
    const dir = project(SQL);
    const args = ["check", "--db-url", db.url, "--no-evidence", "--fail-on", "remote_only,edited", "--format", "json"];
    const lenient = await runCli(args, { cwd: dir });
    expect(lenient.code, lenient.stderr).toBe(0);
    expect(JSON.parse(lenient.stdout).migrations[0].state).toBe("out_of_order");
    const replayed = await runCli([...args, "--replay"], { cwd: dir });
    expect(replayed.code, replayed.stderr).toBe(1);
    expect(JSON.parse(replayed.stdout).replay).toMatchObject({ status: "failed", file: `supabase/migrations/${LINES}`, line: 2 });
  });
});
