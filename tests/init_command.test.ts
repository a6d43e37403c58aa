/**
 * `drift-guard init` on the edges: not a project, broken config.toml, --dry-run,
 * edited files, an existing function entry, upgrades, and a write that fails
 * halfway. The happy path, from the packed tarball, is tests/package_e2e.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { supabase } from "./harness/supabase_cli.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const CONFIG = `# A project's config
project_id = "demo"

[api]
port = 54321 # the API port
`;

function project(config: string | null = CONFIG, migrations: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "drift-guard-init-"));
  dirs.push(dir);
  mkdirSync(join(dir, "supabase", "migrations"), { recursive: true });
  if (config !== null) writeFileSync(join(dir, "supabase", "config.toml"), config);
  for (const [name, text] of Object.entries(migrations)) writeFileSync(join(dir, "supabase", "migrations", name), text);
  return dir;
}

const init = (dir: string, ...args: string[]) => runCli(["init", "--workdir", dir, ...args]);
const migrationsOf = (dir: string) => readdirSync(join(dir, "supabase", "migrations")).sort();
const fnFile = (dir: string, name: string) => join(dir, "supabase", "functions", "migration-drift", name);

describe("drift-guard init", () => {
  it("outside a Supabase project: exit 2, names `supabase init`, writes nothing", async () => {
    const dir = project(null);
    const r = await init(dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no supabase\/config\.toml/);
    expect(r.stderr).toMatch(/supabase init/);
    expect(existsSync(join(dir, "supabase", "functions"))).toBe(false);
    expect(migrationsOf(dir)).toEqual([]);
  });

  it("an unparsable config.toml: exit 2 with its line, and the file stays untouched", async () => {
    const broken = `${CONFIG}\n[functions\nverify_jwt = false\n`;
    const dir = project(broken);
    const r = await init(dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not valid TOML at line 7/);
    expect(readFileSync(join(dir, "supabase", "config.toml"), "utf8")).toBe(broken);
    expect(existsSync(join(dir, "supabase", "functions"))).toBe(false);
    expect(migrationsOf(dir)).toEqual([]);
  });

  it("--dry-run lists what it would write and writes nothing", async () => {
    const dir = project();
    const r = await init(dir, "--dry-run");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/would write/);
    expect(r.stdout).toMatch(/create +supabase\/functions\/migration-drift\/ \(\d+ files\)/);
    expect(r.stdout).toMatch(/update +supabase\/config\.toml/);
    expect(r.stdout).toMatch(/create +supabase\/migrations\/\d{14}_drift_guard\.sql/);
    expect(r.stdout).toMatch(/create +\.github\/workflows\/migration-drift\.yml/);
    expect(readFileSync(join(dir, "supabase", "config.toml"), "utf8")).toBe(CONFIG);
    expect(existsSync(join(dir, "supabase", "functions"))).toBe(false);
    expect(existsSync(join(dir, ".github"))).toBe(false);
    expect(migrationsOf(dir)).toEqual([]);
  });

  it("keeps every other line of config.toml, comments included, and appends the function's table", async () => {
    const dir = project();
    expect((await init(dir)).status).toBe(0);
    const config = readFileSync(join(dir, "supabase", "config.toml"), "utf8");
    expect(config.startsWith(CONFIG)).toBe(true);
    expect(config.slice(CONFIG.length)).toMatch(/^\n\[functions\.migration-drift\]\nenabled = true\n[\s\S]*verify_jwt = false\n/);
  });

  it("a second run changes nothing; an edited file is kept, and --force overwrites it", async () => {
    const dir = project();
    expect((await init(dir)).status).toBe(0);
    const again = await init(dir);
    expect(again.stdout).toMatch(/Nothing to change/);

    const routes = fnFile(dir, "routes.ts");
    const edited = readFileSync(routes, "utf8") + "\n// my change\n";
    writeFileSync(routes, edited);
    const kept = await init(dir);
    expect(kept.status).toBe(0);
    expect(kept.stdout).toMatch(/kept \(edited\) +supabase\/functions\/migration-drift\/routes\.ts +\(edited since drift-guard wrote it; --force overwrites it\)/);
    expect(readFileSync(routes, "utf8")).toBe(edited);

    const forced = await init(dir, "--force");
    expect(forced.stdout).toMatch(/update +supabase\/functions\/migration-drift\/routes\.ts/);
    expect(readFileSync(routes, "utf8")).not.toContain("// my change");
    expect((await init(dir)).stdout).toMatch(/Nothing to change/);
  });

  it("an existing [functions.migration-drift] with verify_jwt on: warns and keeps it; --force sets only that line", async () => {
    const config = `${CONFIG}\n[functions.migration-drift]\nenabled = true\nverify_jwt = true # mine\n\n[db]\nport = 54322\n`;
    const dir = project(config);
    const r = await init(dir);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/verify_jwt on: set verify_jwt = false/);
    expect(readFileSync(join(dir, "supabase", "config.toml"), "utf8")).toBe(config);
    expect((await init(dir, "--force")).status).toBe(0);
    expect(readFileSync(join(dir, "supabase", "config.toml"), "utf8")).toBe(config.replace("verify_jwt = true # mine", "verify_jwt = false"));
  });

  it("the schema migration is newer than every existing migration, and is added again only when the schema changed", async () => {
    const dir = project(CONFIG, { "29990101000000_future.sql": "select 1;" });
    expect((await init(dir)).status).toBe(0);
    const added = migrationsOf(dir).filter((n) => n.includes("drift_guard"));
    expect(added).toEqual(["29990101000001_drift_guard.sql"]);

    // An older release's schema: a drift_guard migration whose schema hash differs.
    const path = join(dir, "supabase", "migrations", added[0]);
    writeFileSync(path, readFileSync(path, "utf8").replace(/schema sha256:[0-9a-f]{64}/, `schema sha256:${"0".repeat(64)}`));
    const upgraded = await init(dir);
    expect(upgraded.stdout).toMatch(/create +supabase\/migrations\/29990101000002_drift_guard\.sql/);
    expect((await init(dir)).stdout).toMatch(/Nothing to change/);
  });

  it("a write that fails halfway leaves no file behind", async () => {
    const dir = project();
    // The workflow's path is taken by a directory: init must fail before renaming anything into place.
    mkdirSync(join(dir, ".github", "workflows", "migration-drift.yml"), { recursive: true });
    const r = await init(dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/migration-drift\.yml is a directory/);
    expect(existsSync(join(dir, "supabase", "functions"))).toBe(false);
    expect(migrationsOf(dir)).toEqual([]);
    expect(readFileSync(join(dir, "supabase", "config.toml"), "utf8")).toBe(CONFIG);
    const leftovers = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? leftovers(join(d, e.name)) : [e.name]);
    expect(leftovers(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });
});

describe("init when a write fails after others were staged", () => {
  it("removes what it staged: no function folder, no migration, config.toml untouched", async () => {
    const dir = project();
    // .github is a file: the function's files are staged first, then the workflow's directory cannot be made.
    writeFileSync(join(dir, ".github"), "not a directory");
    const r = await init(dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nothing was written/);
    expect(existsSync(join(dir, "supabase", "functions"))).toBe(false);
    expect(migrationsOf(dir)).toEqual([]);
    expect(readFileSync(join(dir, "supabase", "config.toml"), "utf8")).toBe(CONFIG);
    expect(readdirSync(join(dir, "supabase")).sort()).toEqual(["config.toml", "migrations"]);
  });
});

describe("init's migration and drift-guard install on one database", () => {
  let db: TestDatabase;
  afterAll(async () => {
    await db?.drop();
  });

  it("install first, then db push of init's migration, then install again: all succeed", async () => {
    db = await createTestDatabase("init_install");
    expect((await runCli(["install", "--db-url", db.url])).status).toBe(0);
    const dir = project();
    expect((await init(dir)).status).toBe(0);
    const push = supabase(["db", "push", "--db-url", db.url], dir);
    expect(push.status, push.stderr).toBe(0);
    const again = await runCli(["install", "--db-url", db.url]);
    expect(again.status, again.stderr).toBe(0);
    // The migration recorded each file's checksum as install does: nothing to run again.
    expect(again.stdout).toContain("already up to date");
    const versions = await db.sql`select version, checksum from drift_guard.schema_version order by version`;
    expect(versions.length).toBeGreaterThan(0);
    for (const v of versions) expect(v.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe("init's next steps for more environments", () => {
  it("explain how to add a target and its secrets; each [remotes.<name>] of config.toml gets its own lines", async () => {
    const fresh = await init(project());
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(fresh.stdout).toContain("  6. More environments (staging, dev, …), checked together every morning:");
    expect(fresh.stdout).toContain("         [remotes.staging]\n         project_id = \"<staging-ref>\"");
    expect(fresh.stdout).toContain("gh secret set DRIFT_GUARD_URL_STAGING --body https://<staging-ref>.supabase.co/functions/v1/migration-drift");
    expect(fresh.stdout).toContain("DRIFT_GUARD_TOKEN_STAGING: ${{ secrets.DRIFT_GUARD_READ_TOKEN_STAGING }}");
    expect(fresh.stdout).toContain("npx drift-guard check --all-targets");

    const withRemotes = await init(project(`${CONFIG}\n[remotes.qa-eu]\nproject_id = "qaqaqaqaqaqaqaqaqaqa"\n`));
    expect(withRemotes.status, withRemotes.stderr).toBe(0);
    expect(withRemotes.stdout).not.toContain("[remotes.staging]");
    expect(withRemotes.stdout).toContain("gh secret set DRIFT_GUARD_URL_QA_EU --body https://qaqaqaqaqaqaqaqaqaqa.supabase.co/functions/v1/migration-drift");
    expect(withRemotes.stdout).toContain("gh secret set DRIFT_GUARD_READ_TOKEN_QA_EU");
    expect(withRemotes.stdout).toContain("DRIFT_GUARD_URL_QA_EU: ${{ secrets.DRIFT_GUARD_URL_QA_EU }}");
  });
});
