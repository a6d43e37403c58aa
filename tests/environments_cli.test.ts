/**
 * `drift-guard check --target … / --all-targets` from a user's seat: three real
 * databases (production lacking the newest migration, staging with a hotfix nobody
 * committed, dev in sync) in one run; a target that cannot be reached; the remotes of
 * a config.toml written by `supabase init`; a function target beside database
 * targets; the Markdown matrix rendered as GitHub renders it; bad input; and no URL,
 * password or token in any output.
 */
import { appendFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import MarkdownIt from "markdown-it";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { createServer, type Socket } from "node:net";
import { runCli } from "./harness/cli_in_process.ts";
import { startDriftGuard } from "./harness/drift_guard_cli.ts";
import { OUTCOMES } from "../shared/types.ts";
import { type FunctionServer, startFunctionServer } from "./harness/function_server.ts";
import { freePort, SUPERUSER_PASSWORD } from "./harness/postgres.ts";
import { makeProject, supabase, supabasePush } from "./harness/supabase_cli.ts";

const A = "20240101000000_accounts.sql";
const B = "20240102000000_orders.sql";
const C = "20240103000000_invoices.sql";
const HOTFIX = "20240104000000_hotfix_index.sql";
const SQL: Record<string, string> = {
  [A]: "create table public.accounts (id bigint primary key);",
  [B]: "create table public.orders (id bigint primary key, account bigint references public.accounts);",
  [C]: "create table public.invoices (id bigint primary key);",
  [HOTFIX]: "create index orders_account on public.orders (account);",
};
const files = (names: string[]) => Object.fromEntries(names.map((n) => [n, SQL[n]]));

let production: TestDatabase;
let staging: TestDatabase;
let dev: TestDatabase;
let project: string;
const made: string[] = [];

beforeAll(async () => {
  [production, staging, dev] = await Promise.all([createTestDatabase("env_prod"), createTestDatabase("env_staging"), createTestDatabase("env_dev")]);
  const pushWith = (db: TestDatabase, names: string[]) => {
    const dir = makeProject(files(names));
    made.push(dir);
    supabasePush(db.url, dir);
  };
  pushWith(production, [A, B]);
  pushWith(staging, [A, B, C, HOTFIX]);
  pushWith(dev, [A, B, C]);
  // The repository: A, B and C, in a project `supabase init` made, with staging and dev as remotes.
  project = makeProject(files([A, B, C]));
  made.push(project);
  const init = supabase(["init", "--force"], project);
  expect(init.status, init.stderr).toBe(0);
  appendFileSync(join(project, "supabase", "config.toml"), `
[remotes.staging]
project_id = "abcdefghijklmnopqrst"

[remotes.staging.db.seed]
enabled = false

[remotes.dev]
project_id = "tsrqponmlkjihgfedcba"
`);
});

afterAll(async () => {
  await Promise.all([production, staging, dev].map((db) => db?.drop()));
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const envFor = () => ({ DRIFT_GUARD_DB_URL_STAGING: staging.url, DRIFT_GUARD_DB_URL_DEV: dev.url });

/** Nothing that could carry a credential: the URLs, the password, the hosts' ports. */
function expectNoSecrets(text: string, secrets: string[]) {
  for (const s of [SUPERUSER_PASSWORD, encodeURIComponent(SUPERUSER_PASSWORD), ...secrets]) expect(text).not.toContain(s);
  // Examples in hints ("postgresql://…") are fine; a URL with a host is not.
  expect(text).not.toMatch(/postgres(ql)?:\/\/(?!…)/);
}

describe("check over three environments", () => {
  it("one run: production lacks the newest migration, staging has an uncommitted hotfix, dev is in sync", async () => {
    const r = await runCli(["check", "--target", `production=${production.url}`, "--target", "staging", "--target", "dev", "--no-evidence", "--format", "json"], { cwd: project, env: envFor() });
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.status).toBe("drift");
    expect(report.targets.map((t: any) => [t.name, t.kind, t.status, t.fails])).toEqual([
      ["production", "database", "drift", true],
      ["staging", "database", "drift", true],
      ["dev", "database", "in_sync", false],
    ]);
    expect(report.targets.map((t: any) => t.source)).toEqual(["--target production=…", "DRIFT_GUARD_DB_URL_STAGING", "DRIFT_GUARD_DB_URL_DEV"]);
    // The usual single-target report, per target.
    expect(report.targets[0].summary).toMatchObject({ in_sync: 2, pending: 1 });
    expect(report.targets[1].summary).toMatchObject({ in_sync: 3, remote_only: 1 });
    expect(report.targets[2].history_digest).toMatch(/^sha256:/);
    expect(report.versions).toEqual([
      { version: "20240101000000", name: "accounts", states: { production: "in_sync", staging: "in_sync", dev: "in_sync" } },
      { version: "20240102000000", name: "orders", states: { production: "in_sync", staging: "in_sync", dev: "in_sync" } },
      { version: "20240103000000", name: "invoices", states: { production: "pending", staging: "in_sync", dev: "in_sync" } },
      { version: "20240104000000", name: "hotfix_index", states: { production: "absent", staging: "remote_only", dev: "absent" } },
    ]);
    expect(report.in_sync_everywhere).toBe(2);
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: "not_applied", version: "20240103000000", on: ["staging", "dev"], missing_on: ["production"], file: `supabase/migrations/${C}` }),
      expect.objectContaining({ kind: "hotfix", version: "20240104000000", on: ["staging"], missing_on: ["production", "dev"] }),
    ]);
    expectNoSecrets(r.stdout + r.stderr, [production.url, staging.url, dev.url]);
  });

  it("text: the matrix has a row per version not in sync everywhere and a column per target; the rest is a count; findings, then each target", async () => {
    const r = await runCli(["check", "--target", `production=${production.url}`, "--target", "staging", "--target", "dev", "--no-evidence"], { cwd: project, env: envFor() });
    expect(r.status, r.stderr).toBe(1);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("drift in 2 of 3 environment(s) (production, staging)");
    const header = lines.findIndex((l) => l.startsWith("VERSION"));
    expect(lines[header].split(/\s{2,}/)).toEqual(["VERSION", "NAME", "production", "staging", "dev"]);
    expect(lines[header + 1].split(/\s{2,}/)).toEqual(["20240103000000", "invoices", "pending", "✓", "✓"]);
    expect(lines[header + 2].split(/\s{2,}/)).toEqual(["20240104000000", "hotfix_index", "—", "remote-only", "—"]);
    expect(lines[header + 3]).toBe("2 version(s) in sync in every environment checked");
    expect(r.stdout).toContain(`20240103000000 invoices: applied on staging, dev but not on production; its file is supabase/migrations/${C}`);
    expect(r.stdout).toContain("20240104000000 hotfix_index: applied on staging only, and no file in the repository has it");
    expect(r.stdout).toContain("== staging (database, DRIFT_GUARD_DB_URL_STAGING) ==");
    expect(r.stdout).toContain('run the commands below against this target with --db-url "$DRIFT_GUARD_DB_URL_STAGING"');
    expect(r.stdout).toMatch(/== dev \(database, DRIFT_GUARD_DB_URL_DEV\) ==\nin sync: 3 migration\(s\)/);
  });

  it("--all-targets: the remotes of a config.toml that `supabase init` wrote, plus production from SUPABASE_DB_URL; the Markdown matrix renders", async () => {
    const config = readFileSync(join(project, "supabase", "config.toml"), "utf8");
    expect(config).toMatch(/^project_id = /m); // written by supabase init, not by this test
    const r = await runCli(["check", "--all-targets", "--format", "markdown", "--output", "drift.md"], { cwd: project, env: { ...envFor(), SUPABASE_DB_URL: production.url } });
    expect(r.status, r.stderr).toBe(1);
    const markdown = readFileSync(join(project, "drift.md"), "utf8");
    expect(markdown.split("\n")[0]).toBe("## ❌ Migration drift in 2 of 3 environment(s) (staging, production)");

    // Rendered as GitHub renders a job summary (markdown-it implements CommonMark + GFM tables).
    const html = new MarkdownIt().render(markdown);
    const dom = new MarkdownIt().parse(markdown, {});
    const tables: string[][][] = [];
    let row: string[] | null = null;
    let cells: string[][] = [];
    for (const token of dom) {
      if (token.type === "table_open") cells = [];
      if (token.type === "tr_open") row = [];
      if (token.type === "inline" && row) row.push(token.content);
      if (token.type === "tr_close") {
        cells.push(row!);
        row = null;
      }
      if (token.type === "table_close") tables.push(cells);
    }
    const matrix = tables.find((t) => t[0][0] === "version")!;
    expect(matrix[0]).toEqual(["version", "name", "staging", "dev", "production"]);
    expect(matrix.slice(1)).toEqual([
      ["`20240103000000`", "`invoices`", "✓", "✓", "🕓 pending"],
      ["`20240104000000`", "`hotfix_index`", "❌ remote-only", "—", "—"],
    ]);
    expect(html).toContain(`<td style="text-align:center">🕓 pending</td>`);
    expect(html).toContain("<p>2 version(s) in sync in every environment checked.</p>");
    expect(html).toMatch(/<h3>Across environments<\/h3>\n<ul>\n<li><code>20240103000000<\/code> <code>invoices<\/code>: applied on staging, dev but <strong>not on production<\/strong>/);
    // Each target's report sits below, its headings two levels down.
    for (const name of ["staging", "dev", "production"]) expect(html).toContain(`<h3>${name}</h3>`);
    expect(html).toContain("<h4>✅ Migrations in sync: 3 migration(s) match the history</h4>");
    expect(html).not.toMatch(/<h2>[^<]*in sync: 3/);
    // The terminal got text.
    expect(r.stdout.split("\n")[0]).toBe("drift in 2 of 3 environment(s) (staging, production)");
    expectNoSecrets(markdown + r.stdout + r.stderr, [production.url, staging.url, dev.url]);
    rmSync(join(project, "drift.md"));
  });

  it("a migration recorded on two targets with different content is named, with the target that matches the file", async () => {
    const qa = await createTestDatabase("env_qa");
    try {
      const edited = makeProject({ ...files([A]), [B]: "create table public.orders (id bigint primary key, account bigint);" });
      made.push(edited);
      supabasePush(qa.url, edited);
      const r = await runCli(["check", "--target", `production=${production.url}`, "--target", `qa=${qa.url}`, "--no-evidence", "--format", "json"], { cwd: project });
      expect(r.status, r.stderr).toBe(1);
      const report = JSON.parse(r.stdout);
      expect(report.versions[1].states).toEqual({ production: "in_sync", qa: "edited" });
      const differs = report.findings.find((f: any) => f.kind === "content_differs");
      expect(differs).toMatchObject({ version: "20240102000000", on: ["production", "qa"] });
      expect(differs.checksums.map((c: any) => [c.targets, c.matches_file])).toEqual([[["production"], true], [["qa"], false]]);
      expect(report.findings.find((f: any) => f.kind === "not_applied" && f.version === "20240103000000")).toBeUndefined();
    } finally {
      await qa.drop();
    }
  });

  it("--fail-on for every target and --fail-on-target for one: production's pending passes, staging's remote_only passes only where tolerated", async () => {
    const args = ["check", "--target", `production=${production.url}`, "--target", "staging", "--target", "dev", "--no-evidence", "--format", "json", "--fail-on", "remote_only,edited"];
    const strict = await runCli(args, { cwd: project, env: envFor() });
    expect(strict.status).toBe(1);
    expect(JSON.parse(strict.stdout).targets.map((t: any) => [t.name, t.fails, t.fail_on])).toEqual([
      ["production", false, ["remote_only", "edited"]],
      ["staging", true, ["remote_only", "edited"]],
      ["dev", false, ["remote_only", "edited"]],
    ]);
    const tolerant = await runCli([...args, "--fail-on-target", "staging=edited"], { cwd: project, env: envFor() });
    expect(tolerant.status, tolerant.stderr).toBe(0);
    expect(JSON.parse(tolerant.stdout).targets[1]).toMatchObject({ name: "staging", fails: false, fail_on: ["edited"] });
    expect(tolerant.stderr).toContain("drift-guard: staging: drift only in remote_only, which --fail-on edited lets pass");
    expect(tolerant.stderr).toContain("drift-guard: production: drift only in pending, which --fail-on remote_only,edited lets pass");
  });
});

describe("a target that cannot be checked", () => {
  it("is reported with its error, the others are still checked, and the run exits 3; its URL never shows", async () => {
    const closed = await freePort();
    const broken = `postgresql://postgres:${encodeURIComponent(SUPERUSER_PASSWORD)}@127.0.0.1:${closed}/postgres?sslmode=disable`;
    const r = await runCli(["check", "--target", `production=${production.url}`, "--target", "broken", "--target", "dev", "--no-evidence", "--format", "json"], {
      cwd: project,
      env: { ...envFor(), DRIFT_GUARD_DB_URL_BROKEN: broken },
    });
    expect(r.status, r.stderr).toBe(3);
    const report = JSON.parse(r.stdout);
    expect(report.status).toBe("drift");
    expect(report.targets.map((t: any) => [t.name, t.status])).toEqual([["production", "drift"], ["broken", "error"], ["dev", "in_sync"]]);
    expect(report.targets[1].error).toMatchObject({ code: "unreachable", message: expect.stringContaining("(the URL in DRIFT_GUARD_DB_URL_BROKEN)") });
    expect(report.versions[2].states).toEqual({ production: "pending", broken: "unknown", dev: "in_sync" });
    expectNoSecrets(r.stdout + r.stderr, [broken, `127.0.0.1:${closed}`, production.url]);

    const text = await runCli(["check", "--target", "broken", "--target", "dev", "--no-evidence"], { cwd: project, env: { ...envFor(), DRIFT_GUARD_DB_URL_BROKEN: broken } });
    expect(text.status).toBe(3);
    expect(text.stdout.split("\n")[0]).toBe("1 not checked (broken)");
    expect(text.stdout).toMatch(/== broken \(database, DRIFT_GUARD_DB_URL_BROKEN\) ==\nnot checked: cannot reach the database at \(the URL in DRIFT_GUARD_DB_URL_BROKEN\)/);
    expectNoSecrets(text.stdout + text.stderr, [broken, `127.0.0.1:${closed}`]);

    const junit = await runCli(["check", "--target", "broken", "--target", "dev", "--no-evidence", "--format", "junit"], { cwd: project, env: { ...envFor(), DRIFT_GUARD_DB_URL_BROKEN: broken } });
    expect(XMLValidator.validate(junit.stdout)).toBe(true);
    const suites = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === "testsuite" || name === "testcase" }).parse(junit.stdout).testsuites.testsuite;
    expect(suites.map((s: any) => [s["@_name"], s["@_errors"]])).toEqual([["broken", "1"], ["dev", "0"]]);
    expect(suites[0].testcase[0].error["@_type"]).toBe("unreachable");
    expectNoSecrets(junit.stdout, [broken, `127.0.0.1:${closed}`]);
  });
});

describe("Ctrl-C while targets are being checked", () => {
  it("ends the run at once, as a signal ends any read, instead of waiting for the slowest target", async () => {
    // A loopback server that accepts connections and never answers: the check waits on it.
    const sockets: Socket[] = [];
    let accepted!: () => void;
    const connected = new Promise<void>((done) => (accepted = done));
    const silent = createServer((socket) => {
      sockets.push(socket);
      accepted();
    });
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    const port = (silent.address() as { port: number }).port;
    try {
      const child = startDriftGuard(["check", "--target", "silent", "--no-evidence"], { cwd: project, env: { DRIFT_GUARD_DB_URL_SILENT: `postgresql://postgres:x@127.0.0.1:${port}/postgres` } });
      await connected;
      child.kill("SIGINT");
      const r = await child.result;
      // Ended by the signal as every read ends (the interrupted outcome, never a death by signal),
      // not reported as "cannot reach" after the connect timeout.
      expect(r.status, r.stdout + r.stderr).toBe(OUTCOMES.interrupted.exit);
      expect(r.stdout + r.stderr).not.toContain("cannot reach");
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => silent.close(() => done()));
    }
  });
});

describe("a function target beside database targets", () => {
  let server: FunctionServer;
  let token: string;
  beforeAll(async () => {
    const install = await runCli(["install", "--db-url", staging.url]);
    expect(install.status, install.stderr).toBe(0);
    const created = await runCli(["token", "create", "--db-url", staging.url, "--scope", "read", "--label", "environments-test"]);
    expect(created.status, created.stderr).toBe(0);
    token = created.stdout.trim().split("\n").at(-1)!;
    server = await startFunctionServer({ SUPABASE_DB_URL: staging.url });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("staging through its function, production and dev through their databases, in one report; JUnit has one suite per target", async () => {
    const env = { DRIFT_GUARD_URL_STAGING: server.url, DRIFT_GUARD_TOKEN_STAGING: token, DRIFT_GUARD_DB_URL_DEV: dev.url, SUPABASE_DB_URL: production.url };
    const r = await runCli(["check", "--target", "production", "--target", "staging", "--target", "dev", "--no-evidence", "--format", "json"], { cwd: project, env });
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.targets.map((t: any) => [t.name, t.kind, t.source, t.status])).toEqual([
      ["production", "database", "SUPABASE_DB_URL", "drift"],
      ["staging", "function", "DRIFT_GUARD_URL_STAGING", "drift"],
      ["dev", "database", "DRIFT_GUARD_DB_URL_DEV", "in_sync"],
    ]);
    expect(report.targets[1]).toMatchObject({ token_source: "DRIFT_GUARD_TOKEN_STAGING", manifest_digest: expect.stringMatching(/^sha256:/) });
    expect(report.versions[3].states).toEqual({ production: "absent", staging: "remote_only", dev: "absent" });
    expect(report.findings.map((f: any) => f.kind)).toEqual(["not_applied", "hotfix"]);
    expectNoSecrets(r.stdout + r.stderr, [token, server.url, `127.0.0.1:${server.port}`, production.url]);

    const junit = await runCli(["check", "--target", "production", "--target", "staging", "--target", "dev", "--no-evidence", "--format", "junit"], { cwd: project, env });
    expect(junit.status).toBe(1);
    expect(XMLValidator.validate(junit.stdout)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === "testsuite" || name === "testcase" }).parse(junit.stdout).testsuites;
    const suites = parsed.testsuite;
    expect(suites.map((s: any) => [s["@_name"], s["@_tests"], s["@_failures"]])).toEqual([
      ["production", "3", "1"],
      ["staging", "4", "1"],
      ["dev", "3", "0"],
      ["across environments", "2", "0"],
    ]);
    const stagingHotfix = suites[1].testcase.find((c: any) => c["@_name"] === "20240104000000_hotfix_index");
    expect(stagingHotfix["@_classname"]).toBe("drift-guard.staging");
    expect(stagingHotfix.failure["@_type"]).toBe("remote_only");
    expect(parsed["@_failures"]).toBe("2");
    expectNoSecrets(junit.stdout, [token, server.url]);
  });

  it("a function target without a token names the variable to set, and checks nothing", async () => {
    const r = await runCli(["check", "--target", "staging", "--target", "dev", "--no-evidence"], { cwd: project, env: { DRIFT_GUARD_URL_STAGING: server.url, DRIFT_GUARD_DB_URL_DEV: dev.url } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('target "staging" is a function and has no token: set DRIFT_GUARD_TOKEN_STAGING, or pass --token');
    expect(r.stdout).toBe("");
    expectNoSecrets(r.stderr, [server.url]);
  });
});

describe("bad input exits 2, names what is wrong, and shows no URL", () => {
  const bad = async (args: string[], env: Record<string, string> = {}) => {
    const r = await runCli(["check", ...args, "--no-evidence"], { cwd: project, env });
    expect(r.status, r.stdout).toBe(2);
    expect(r.stdout).toBe("");
    expectNoSecrets(r.stderr, ["s3cret"]);
    return r.stderr;
  };

  it("a target name that is not an identifier", async () => {
    expect(await bad(["--target", "9lives=postgresql://u:s3cret@127.0.0.1:1/db"])).toContain('--target: "9lives" is not a valid target name');
    expect(await bad(["--target", "prod.eu=postgresql://u:s3cret@127.0.0.1:1/db"])).toContain('"prod.eu" is not a valid target name');
    expect(await bad(["--fail-on-target", "bad name=edited", "--target", "dev"], envFor())).toContain('--fail-on-target: "bad name" is not a valid target name');
  });

  it("a URL given where the name goes", async () => {
    expect(await bad(["--target", "postgresql://u:s3cret@127.0.0.1:1/db"])).toContain("--target takes NAME=URL (or NAME alone); this one has a URL and no name");
    expect(await bad(["--target", "postgresql://u:s3cret@127.0.0.1:1/db=x"])).toContain("is not a valid target name");
  });

  it("a target given twice, or two names that read the same variables", async () => {
    expect(await bad(["--target", "dev", "--target", "dev"], envFor())).toContain("--target dev is given twice");
    expect(await bad(["--target", "my-db=postgresql://u:s3cret@127.0.0.1:1/a", "--target", "my_db=postgresql://u:s3cret@127.0.0.1:1/b"]))
      .toContain("--target my-db and --target my_db are the same target (both read DRIFT_GUARD_DB_URL_MY_DB)");
    expect(await bad(["--target", "dev", "--fail-on-target", "dev=edited", "--fail-on-target", "dev=renamed"], envFor())).toContain("--fail-on-target dev is given twice");
  });

  it("a named target without a URL names the variables to set, all at once", async () => {
    const stderr = await bad(["--target", "qa", "--target", "preview-42"]);
    expect(stderr).toContain('target "qa" has no URL: set DRIFT_GUARD_DB_URL_QA (a database URL) or DRIFT_GUARD_URL_QA (its migration-drift function, with DRIFT_GUARD_TOKEN_QA)');
    expect(stderr).toContain('target "preview-42" has no URL: set DRIFT_GUARD_DB_URL_PREVIEW_42');
    // --all-targets: the remotes of config.toml need theirs too.
    expect(await bad(["--all-targets"], { DRIFT_GUARD_DB_URL_DEV: dev.url })).toContain('target "staging" has no URL: set DRIFT_GUARD_DB_URL_STAGING');
  });

  it("a URL that is neither a database nor a function, a function URL in the clear, --fail-on-target for no target, --db-url beside --target", async () => {
    expect(await bad(["--target", "qa=mysql://u:s3cret@127.0.0.1:1/db"])).toContain('target "qa": the URL in --target qa=… is neither a database URL');
    expect(await bad(["--target", "qa=http://u:s3cret@db.example.invalid/functions/v1/migration-drift", "--token", "dg_s3cret"])).toContain("target qa: --url must be https://");
    expect(await bad(["--target", "dev", "--fail-on-target", "prod=edited"], envFor())).toContain("--fail-on-target prod: no target is named prod");
    expect(await bad(["--fail-on-target", "dev=edited"])).toContain("--fail-on-target needs --target or --all-targets");
    expect(await bad(["--fail-on-target", "dev=pending,bogus", "--target", "dev"], envFor())).toContain('not "bogus"');
    expect(await bad(["--target", "dev", "--db-url", "postgresql://u:s3cret@127.0.0.1:1/db"], envFor())).toContain("pass --db-url as a target instead: --target production=URL");
  });
});
