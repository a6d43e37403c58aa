/**
 * The rules the CLI's commands share: `check --fail-on`, the one precedence rule
 * between --db-url and --url (and their environment variables), and exit codes in
 * every command's --help.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const A = { "20240101000000_a.sql": "create table public.a (id int);" };
const B = { "20240102000000_b.sql": "create table public.b (id int);" };
const CI_POLICY = "remote_only,out_of_order,edited,renamed,untracked";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("cli_options");
  supabasePush(db.url, makeProject(A));
});
afterAll(() => db?.drop());

describe("check --fail-on", () => {
  it("by default every drift state exits 1, pending included", async () => {
    expect((await runCli(["check", "--db-url", db.url], { cwd: makeProject({ ...A, ...B }) })).status).toBe(1);
  });

  it("pending only, with the CI policy: exit 0, the report still says drift, stderr says why it passed", async () => {
    const r = await runCli(["check", "--db-url", db.url, "--fail-on", CI_POLICY, "--format", "json"], { cwd: makeProject({ ...A, ...B }) });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe("drift");
    expect(r.stderr).toContain(`drift only in pending, which --fail-on ${CI_POLICY} lets pass`);
  });

  it("a state the policy names exits 1", async () => {
    // 20240101000000 is in the history but not in this checkout: remote_only.
    expect((await runCli(["check", "--db-url", db.url, "--fail-on", CI_POLICY], { cwd: makeProject(B) })).status).toBe(1);
  });

  it("an unknown state, or in_sync, is a usage error (exit 2)", async () => {
    for (const bad of ["pendng", "in_sync", ""]) {
      const r = await runCli(["check", "--db-url", db.url, "--fail-on", bad], { cwd: makeProject(A) });
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toMatch(/expected drift states from edited, renamed, pending, out_of_order, remote_only, untracked/);
    }
  });
});

describe("--db-url or --url: one rule for check and schema-diff", () => {
  // A function URL nothing listens on: choosing it shows as exit 3 naming the function.
  const deadFunction = "http://127.0.0.1:9/functions/v1/migration-drift";

  for (const command of ["check", "schema-diff"]) {
    it(`${command}: from the environment alone, SUPABASE_DB_URL beats DRIFT_GUARD_URL`, async () => {
      const r = await runCli([command], { cwd: makeProject(A), env: { SUPABASE_DB_URL: db.url, DRIFT_GUARD_URL: deadFunction, DRIFT_GUARD_TOKEN: "dg_x" } });
      expect(r.status, r.stderr).toBe(0);
    });

    it(`${command}: a typed --url beats SUPABASE_DB_URL from the environment`, async () => {
      const r = await runCli([command, "--url", deadFunction, "--token", "dg_x"], { cwd: makeProject(A), env: { SUPABASE_DB_URL: db.url } });
      expect(r.status).toBe(3);
    });

    it(`${command}: a typed --db-url beats DRIFT_GUARD_URL from the environment`, async () => {
      const r = await runCli([command, "--db-url", db.url], { cwd: makeProject(A), env: { DRIFT_GUARD_URL: deadFunction, DRIFT_GUARD_TOKEN: "dg_x" } });
      expect(r.status, r.stderr).toBe(0);
    });

    it(`${command}: --db-url and --url together are a usage error`, async () => {
      const r = await runCli([command, "--db-url", db.url, "--url", deadFunction, "--token", "dg_x"], { cwd: makeProject(A) });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/either --db-url or --url, not both/);
    });
  }
});

describe("--help", () => {
  // Asynchronous: twenty CLI runs in a row must not block the test worker's event loop.
  it("every command lists its exit codes", async () => {
    /** Command names listed under "Commands:" in a help text. */
    const listed = (help: string) =>
      [...(help.split("\nCommands:\n")[1] ?? "").split("\n\n")[0].matchAll(/^  ([a-z-]+)/gm)].map((m) => m[1]).filter((c) => c !== "help");
    const commands = listed((await runCli(["--help"])).stdout);
    expect(commands).toEqual(expect.arrayContaining(["check", "init", "serve", "repair", "schema-diff", "ledger"]));
    const leaves: string[][] = [];
    for (const c of commands) {
      const help = (await runCli([c, "--help"])).stdout;
      // A command that runs lists its exit codes, and so does each subcommand; a group (manifest, token) only lists commands.
      const ownOptions = (help.split("\nOptions:\n")[1] ?? "").split("\n\n")[0].split("\n").filter((l) => /^  -/.test(l) && !/--help/.test(l));
      if (!help.includes("\nCommands:\n") || ownOptions.length > 0) leaves.push([c]);
      leaves.push(...listed(help).map((s) => [c, s]));
    }
    expect(leaves.length).toBeGreaterThan(10);
    for (const words of leaves) {
      const r = await runCli([...words, "--help"]);
      expect(r.status).toBe(0);
      expect(r.stdout, words.join(" ")).toMatch(/\nExit codes:\n(  [0-4]  .+\n)+/);
    }
  });
});
