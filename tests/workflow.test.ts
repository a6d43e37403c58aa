/**
 * .github/workflows/migration-drift.yml: its shape, every drift-guard command it
 * runs exists with the flags it uses, and its steps' scripts, run verbatim with
 * bash against `npm run serve` and a real database, pass, fail and summarise as
 * documented. Only `npx` is pointed at this checkout (the scripts run in a
 * scratch project without node_modules), and GITHUB_STEP_SUMMARY is a temp file.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { createToken, runCli } from "./harness/cli_in_process.ts";
import { BIN } from "./harness/drift_guard_cli.ts";
import { type FunctionServer, startFunctionServer } from "./harness/function_server.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const PATH = resolve(import.meta.dirname, "../templates/migration-drift.yml");
const TEXT = readFileSync(PATH, "utf8");
const workflow = parse(TEXT) as {
  on: Record<string, any>;
  permissions: Record<string, string>;
  jobs: Record<string, { if?: string; env?: Record<string, string>; steps: Array<{ name?: string; uses?: string; run?: string; if?: string; id?: string; with?: Record<string, unknown> }> }>;
};

const steps = Object.entries(workflow.jobs).flatMap(([job, j]) => j.steps.map((s) => ({ job, ...s })));
const scripts = steps.filter((s) => s.run).map((s) => ({ job: s.job, name: s.name ?? "", run: s.run! }));

/** Every `npx drift-guard …` invocation: its subcommand words and its flags. */
function invocations(): Array<{ command: string[]; flags: string[]; line: string }> {
  const found: Array<{ command: string[]; flags: string[]; line: string }> = [];
  for (const { run } of scripts) {
    const joined = run.replace(/\\\n\s*/g, " ");
    for (const m of joined.matchAll(/npx drift-guard ([^\n;|&>]*)/g)) {
      const words = m[1].trim().split(/\s+/);
      const command: string[] = [];
      for (const w of words) {
        if (w.startsWith("-") || w.startsWith('"') || w.startsWith("$")) break;
        command.push(w);
      }
      found.push({ command, flags: words.filter((w) => w.startsWith("--")).map((w) => w.split("=")[0]), line: m[0] });
    }
  }
  return found;
}

function stepScript(job: string, namePart: string): string {
  const s = scripts.find((x) => x.job === job && x.name.includes(namePart));
  if (!s) throw new Error(`no step "${namePart}" in job ${job}`);
  return s.run;
}

describe("the workflow file", () => {
  it("has the structure GitHub requires: every job runs somewhere, every step runs or uses something", () => {
    expect(Object.keys(workflow.jobs).length).toBeGreaterThan(0);
    for (const [name, job] of Object.entries<any>(workflow.jobs)) {
      expect(job["runs-on"], name).toBeTruthy();
      expect(Array.isArray(job.steps), name).toBe(true);
      for (const step of job.steps) expect(Boolean(step.run) !== Boolean(step.uses), `${name}: ${JSON.stringify(step).slice(0, 80)}`).toBe(true);
    }
  });

  it("runs on pull requests, on push to main, and on a schedule", () => {
    expect(Object.keys(workflow.on)).toEqual(expect.arrayContaining(["pull_request", "push", "schedule"]));
    expect(workflow.on.push.branches).toEqual(["main"]);
    expect(workflow.permissions).toEqual({ contents: "read" });
  });

  it("uploads the manifest on push with the deploy token, checks pull requests with the read token", () => {
    const upload = workflow.jobs["upload-manifest"];
    expect(upload.if).toBe("github.event_name == 'push'");
    expect(upload.env).toEqual({ DRIFT_GUARD_URL: "${{ secrets.DRIFT_GUARD_URL }}", DRIFT_GUARD_TOKEN: "${{ secrets.DRIFT_GUARD_DEPLOY_TOKEN }}" });
    expect(stepScript("upload-manifest", "Upload")).toMatch(/npx drift-guard manifest upload --url "\$DRIFT_GUARD_URL" --token "\$DRIFT_GUARD_TOKEN"/);

    const check = workflow.jobs.check;
    expect(check.if).toBe("github.event_name != 'push'");
    expect(check.env).toEqual({ DRIFT_GUARD_URL: "${{ secrets.DRIFT_GUARD_URL }}", DRIFT_GUARD_TOKEN: "${{ secrets.DRIFT_GUARD_READ_TOKEN }}" });
    const script = stepScript("check", "Compare");
    expect(script.replace(/\\\n\s*/g, "")).toMatch(
      /npx drift-guard check --url "\$DRIFT_GUARD_URL" --token "\$DRIFT_GUARD_TOKEN" --fail-on remote_only,out_of_order,edited,renamed,untracked --format markdown --output drift\.md/,
    );
    // The policy is the CLI's (--fail-on), not an inline script's.
    expect(script).not.toMatch(/node -e/);
    expect(script).toContain('>> "$GITHUB_STEP_SUMMARY"');
  });

  it("replaces the Docker-based guard, and never puts an expression inside a script", () => {
    for (const { run } of scripts) {
      expect(run).not.toMatch(/db diff|docker/i);
      // ${{ }} inside run: is how untrusted pull request text gets executed; values come through env.
      expect(run).not.toContain("${{");
    }
  });

  it("every drift-guard command it runs exists, with every flag it uses", () => {
    const found = invocations();
    expect(found.map((f) => f.command.join(" "))).toEqual(expect.arrayContaining(["check", "manifest upload"]));
    for (const { command, flags, line } of found) {
      const r = spawnSync(process.execPath, [BIN, ...command, "--help"], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      expect(r.status, `${line}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`Usage: drift-guard ${command.join(" ")} [options]`);
      for (const flag of flags) expect(r.stdout, `${line}: ${flag}`).toMatch(new RegExp(`(^|\\s)${flag}[ ,<]`, "m"));
    }
  });
});

describe("the workflow's scripts, run verbatim", () => {
  let db: TestDatabase;
  let server: FunctionServer;
  let shims: string;
  let readToken: string;
  let deployToken: string;
  const A = "20240101000000_accounts.sql";
  const B = "20240102000000_orders.sql";

  beforeAll(async () => {
    db = await createTestDatabase("workflow");
    supabasePush(db.url, makeProject({ [A]: "create table public.accounts (id bigint primary key);" }));
    expect((await runCli(["install", "--db-url", db.url])).status).toBe(0);
    readToken = await createToken(db.url, "read", "github-pr");
    deployToken = await createToken(db.url, "deploy", "github-deploy");
    server = await startFunctionServer({ SUPABASE_DB_URL: db.url });
    shims = mkdtempSync(join(tmpdir(), "dg-npx-"));
    writeFileSync(join(shims, "npx"), `#!/bin/sh\n[ "$1" = drift-guard ] && shift && exec node ${JSON.stringify(BIN)} "$@"\nexit 127\n`);
    chmodSync(join(shims, "npx"), 0o755);
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    if (shims) rmSync(shims, { recursive: true, force: true });
  });

  /** A step's script as the runner runs it: bash -e, the job's env, a fresh step summary file. */
  function runStep(script: string, project: string, tokenValue: string) {
    const summary = join(shims, `summary-${Math.random().toString(36).slice(2)}.md`);
    writeFileSync(summary, "");
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
      cwd: project,
      encoding: "utf8",
      env: {
        ...process.env,
        NO_COLOR: "1",
        PATH: `${shims}:${process.env.PATH}`,
        DRIFT_GUARD_URL: server.url,
        DRIFT_GUARD_TOKEN: tokenValue,
        GITHUB_STEP_SUMMARY: summary,
      },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, summary: readFileSync(summary, "utf8") };
  }

  const check = () => stepScript("check", "Compare");
  const files = (names: string[]) =>
    Object.fromEntries(names.map((n) => [n, n === A ? "create table public.accounts (id bigint primary key);" : `create table public.t_${n.slice(0, 14)} (id int);`]));

  it("in sync: passes, and the summary says so", () => {
    const r = runStep(check(), makeProject(files([A])), readToken);
    expect(r.status, r.stderr).toBe(0);
    expect(r.summary).toMatch(/^## ✅ Migrations in sync: 1 migration\(s\) match the history/);
    expect(r.stdout).toMatch(/^in sync: 1 migration\(s\)/);
  });

  it("a pull request that only adds migrations (pending): passes, and says why", () => {
    const r = runStep(check(), makeProject(files([A, B])), readToken);
    expect(r.status, r.stderr).toBe(0);
    expect(r.summary).toMatch(/^## 🕓 Only new migrations: 1 of 2 not applied yet \(pending\)/);
    expect(r.stderr).toContain("drift only in pending, which --fail-on remote_only,out_of_order,edited,renamed,untracked lets pass");
  });

  it("drift (a migration applied in production without a file): fails with exit 1, the report in the summary", () => {
    // Someone pushed B from a laptop; the pull request's branch does not have it.
    supabasePush(db.url, makeProject(files([A, B])));
    const r = runStep(check(), makeProject(files([A])), readToken);
    expect(r.status).toBe(1);
    expect(r.summary).toMatch(/^## ❌ Migration drift: 1 of 2 migration\(s\) differ from the history/);
    expect(r.summary).toContain("| `20240102000000` | remote_only | `orders` |");
    expect(r.summary).toMatch(/^\s*drift-guard fetch$/m);
    expect(r.summary).toContain("20240102000000");
    expect(r.stdout).toMatch(/^drift: 1 of 2/);
  });

  it("a bad token fails the check (exit 3), it does not pass silently", () => {
    const r = runStep(check(), makeProject(files([A])), "dg_000000000000_not-a-real-token");
    expect(r.status).toBe(3);
  });

  it("push to main: the manifest upload succeeds with the deploy token, and the read token cannot do it", () => {
    const upload = stepScript("upload-manifest", "Upload");
    const project = makeProject(files([A, B]));
    const ok = runStep(upload, project, deployToken);
    expect(ok.status, ok.stderr).toBe(0);
    expect(runStep(upload, project, readToken).status).toBe(3);
  });
});

describe("the scheduled check of every environment, run verbatim", () => {
  let production: TestDatabase;
  let staging: TestDatabase;
  let server: FunctionServer;
  let shims: string;
  let readToken: string;
  const A = "20240101000000_accounts.sql";
  const B = "20240102000000_orders.sql";
  const sql = { [A]: "create table public.accounts (id bigint primary key);", [B]: "create table public.orders (id bigint primary key);" };

  beforeAll(async () => {
    [production, staging] = await Promise.all([createTestDatabase("workflow_env_prod"), createTestDatabase("workflow_env_staging")]);
    supabasePush(production.url, makeProject({ [A]: sql[A] }));
    supabasePush(staging.url, makeProject(sql));
    expect((await runCli(["install", "--db-url", production.url])).status).toBe(0);
    readToken = await createToken(production.url, "read", "github-schedule");
    server = await startFunctionServer({ SUPABASE_DB_URL: production.url });
    shims = mkdtempSync(join(tmpdir(), "dg-npx-"));
    writeFileSync(join(shims, "npx"), `#!/bin/sh\n[ "$1" = drift-guard ] && shift && exec node ${JSON.stringify(BIN)} "$@"\nexit 127\n`);
    chmodSync(join(shims, "npx"), 0o755);
  });
  afterAll(async () => {
    await server?.stop();
    await Promise.all([production?.drop(), staging?.drop()]);
    if (shims) rmSync(shims, { recursive: true, force: true });
  });

  const step = () => workflow.jobs.check.steps.find((s) => s.name?.startsWith("Check every environment"))!;

  it("runs on the schedule (and by hand), not on pull requests; the pull-request step does not run on the schedule", () => {
    expect(step().if).toBe("env.DRIFT_GUARD_URL != '' && env.DRIFT_GUARD_TOKEN != '' && github.event_name != 'pull_request'");
    expect(workflow.jobs.check.steps.find((s) => s.name?.startsWith("Compare"))!.if).toContain("github.event_name == 'pull_request'");
    expect(step().run!.replace(/\\\n\s*/g, "")).toMatch(/npx drift-guard check --all-targets --fail-on remote_only,out_of_order,edited,renamed,untracked --format markdown --output drift\.md/);
    // Each remote's URL and token come from secrets named after it; no expression inside the script.
    const env = (step() as { env?: Record<string, string> }).env!;
    expect(env).toEqual({ DRIFT_GUARD_URL_STAGING: "${{ secrets.DRIFT_GUARD_URL_STAGING }}", DRIFT_GUARD_TOKEN_STAGING: "${{ secrets.DRIFT_GUARD_READ_TOKEN_STAGING }}" });
    expect(step().run).not.toContain("${{");
  });

  it("production through its function, staging from config.toml's [remotes.staging]: one summary with the matrix; exit 1 on staging's drift", () => {
    const project = makeProject({ [A]: sql[A] });
    writeFileSync(join(project, "supabase", "config.toml"), `project_id = "workflow"\n\n[remotes.staging]\nproject_id = "abcdefghijklmnopqrst"\n`);
    const summary = join(shims, "summary-environments.md");
    writeFileSync(summary, "");
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step().run!], {
      cwd: project,
      encoding: "utf8",
      env: {
        ...process.env,
        NO_COLOR: "1",
        PATH: `${shims}:${process.env.PATH}`,
        DRIFT_GUARD_URL: server.url,
        DRIFT_GUARD_TOKEN: readToken,
        // What the step's env gives it when staging's secret holds a database URL (DRIFT_GUARD_DB_URL_<NAME> works like DRIFT_GUARD_URL_<NAME>).
        DRIFT_GUARD_URL_STAGING: "",
        DRIFT_GUARD_TOKEN_STAGING: "",
        DRIFT_GUARD_DB_URL_STAGING: staging.url,
        SUPABASE_DB_URL: "",
        GITHUB_STEP_SUMMARY: summary,
      },
    });
    expect(r.status, r.stderr).toBe(1);
    const md = readFileSync(summary, "utf8");
    expect(md.split("\n")[0]).toBe("## ❌ Migration drift in 1 of 2 environment(s) (staging)");
    expect(md).toContain("| version | name | staging | production |");
    expect(md).toContain("| `20240102000000` | `orders` | ❌ remote-only | — |");
    expect(md).toContain("### production");
    expect(md).not.toContain(readToken);
    expect(md).not.toContain(staging.url);
    expect(r.stdout.split("\n")[0]).toBe("drift in 1 of 2 environment(s) (staging)");
  });

  it("a remote without its secrets fails the check (exit 2) and the log names the variables to set", () => {
    const project = makeProject({ [A]: sql[A] });
    writeFileSync(join(project, "supabase", "config.toml"), `[remotes.staging]\nproject_id = "abcdefghijklmnopqrst"\n`);
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step().run!], {
      cwd: project,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", PATH: `${shims}:${process.env.PATH}`, DRIFT_GUARD_URL: server.url, DRIFT_GUARD_TOKEN: readToken, DRIFT_GUARD_URL_STAGING: "", DRIFT_GUARD_TOKEN_STAGING: "", SUPABASE_DB_URL: "", GITHUB_STEP_SUMMARY: join(shims, "summary-missing.md") },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('target "staging" has no URL: set DRIFT_GUARD_DB_URL_STAGING (a database URL) or DRIFT_GUARD_URL_STAGING');
  });
});

describe("the replay of a pull request's migrations, run verbatim", () => {
  const job = () => workflow.jobs.replay;
  const stepNamed = (part: string) => job().steps.find((s) => s.name?.includes(part))!;
  let shims: string;
  const dirs: string[] = [];
  beforeAll(() => {
    shims = mkdtempSync(join(tmpdir(), "dg-npx-"));
    writeFileSync(join(shims, "npx"), `#!/bin/sh\n[ "$1" = drift-guard ] && shift && exec node ${JSON.stringify(BIN)} "$@"\nexit 127\n`);
    chmodSync(join(shims, "npx"), 0o755);
  });
  afterAll(() => {
    for (const d of [shims, ...dirs]) if (d) rmSync(d, { recursive: true, force: true });
  });

  /** A step's script with bash -e; GITHUB_OUTPUT and GITHUB_STEP_SUMMARY are fresh files. No drift-guard secret is set. */
  function runScript(script: string, cwd: string) {
    const output = join(shims, `output-${Math.random().toString(36).slice(2)}`);
    const summary = join(shims, `summary-${Math.random().toString(36).slice(2)}.md`);
    writeFileSync(output, "");
    writeFileSync(summary, "");
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", PATH: `${shims}:${process.env.PATH}`, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary };
    for (const k of ["SUPABASE_DB_URL", "DRIFT_GUARD_URL", "DRIFT_GUARD_TOKEN"]) delete env[k];
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], { cwd, encoding: "utf8", env });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: readFileSync(output, "utf8"), summary: readFileSync(summary, "utf8") };
  }

  it("runs on pull requests only, without secrets; the replay runs only when supabase/migrations changed", () => {
    expect(job().if).toBe("github.event_name == 'pull_request'");
    expect(job().env).toBeUndefined();
    const checkout = job().steps.find((s) => s.uses?.startsWith("actions/checkout"))! as { with?: Record<string, unknown> };
    expect(checkout.with?.["fetch-depth"]).toBe(2);
    expect((stepNamed("Does this pull request change") as { id?: string }).id).toBe("migrations");
    for (const s of job().steps.filter((x) => !x.uses?.startsWith("actions/checkout") && x.name !== stepNamed("Does this pull request change").name)) {
      expect(s.if, s.name ?? s.uses).toBe("steps.migrations.outputs.changed == 'true'");
    }
    expect(stepNamed("Replay").run).toMatch(/npx drift-guard check --replay --format markdown --output replay\.md/);
  });

  it("the change test: a commit that touches supabase/migrations is a change, one that does not is none", () => {
    const repo = makeProject({ "20240101000000_a.sql": "create table public.a (id int);" });
    dirs.push(repo);
    const git = (...args: string[]) => {
      const r = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { cwd: repo, encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
    };
    git("init", "-q");
    git("add", ".");
    git("commit", "-qm", "base");
    writeFileSync(join(repo, "README.md"), "docs only\n");
    git("add", ".");
    git("commit", "-qm", "docs");
    expect(runScript(stepNamed("Does this pull request change").run!, repo).output).toBe("changed=false\n");
    writeFileSync(join(repo, "supabase", "migrations", "20240102000000_b.sql"), "create table public.b (id int);");
    git("add", ".");
    git("commit", "-qm", "a migration");
    expect(runScript(stepNamed("Does this pull request change").run!, repo).output).toBe("changed=true\n");
  });

  it("an older file that uses a newer file's table fails the job (exit 1) with its file:line in the summary", () => {
    const project = makeProject({
      "20240101000000_invoice_lines.sql": "-- from a branch made before invoices existed\ncreate table public.invoice_lines (id bigint primary key, invoice bigint references public.invoices);\n",
      "20240102000000_invoices.sql": "create table public.invoices (id bigint primary key);\n",
    });
    dirs.push(project);
    const r = runScript(stepNamed("Replay").run!, project);
    expect(r.status, r.stderr).toBe(1);
    expect(r.summary.split("\n")[0]).toBe("## ❌ Migrations fail to replay from zero");
    expect(r.summary).toContain("supabase/migrations/20240101000000_invoice_lines.sql:2");
    expect(r.summary).toContain('relation "public.invoices" does not exist');
  });
});
