/**
 * `npm run demo`: the seed incident replayed on embedded Postgres (PGlite over
 * the wire protocol) with the real CLI. Runs the npm script as a user would and
 * checks what they would see; then checks the incident's data against the real
 * Supabase CLI, so the demo's "production" is recorded exactly as `db push`
 * records it, and its SQL runs on a real PostgreSQL too.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { splitStatements } from "../shared/sql_statements.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const ROOT = resolve(import.meta.dirname, "..");
const DEMO = resolve(ROOT, "bin/drift-guard-demo.js");

interface SeedMigration {
  version: string;
  name: string;
  statements: string[];
  fileName?: string;
}
interface DemoModule {
  REMOTE_MIGRATIONS: SeedMigration[];
  LEGACY_MIGRATIONS: Array<SeedMigration & { fileName: string }>;
  HAND_CHANGED_MIGRATION: SeedMigration & { fileName: string };
  HAND_CHANGES: string[];
  migrationFileText(statements: string[]): string;
}
/** The incident's data, as the demo and the evidence bench read it. */
const demo = (await import(pathToFileURL(resolve(ROOT, "demo/incident.js")).href)) as DemoModule;

function npmRunDemo(args: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
    delete env.SUPABASE_DB_URL;
    const child = spawn("npm", ["run", "--silent", "demo", ...(args.length ? ["--", ...args] : [])], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
}

describe("npm run demo", () => {
  let run: Awaited<ReturnType<typeof npmRunDemo>>;
  let full: Awaited<ReturnType<typeof npmRunDemo>>;
  beforeAll(async () => {
    // Two demos at once: each has its own PGlite on its own port.
    [run, full] = await Promise.all([npmRunDemo(), npmRunDemo(["--full"])]);
  }, 600_000); // two demos, each replaying into the embedded shadow five times

  // How long it takes is a benchmark's question (a loaded CI machine is slow), not a test's.
  it("exits 0 and reports its own duration", () => {
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^Done in \d+\.\d s\.$/m);
  });

  it("serves PGlite over the Postgres wire protocol and runs the real CLI against it", () => {
    expect(run.stdout).toMatch(/"production" is PostgreSQL [\d.]+ \(PGlite [^)]+\), .* served on postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres/);
    expect(run.stdout).toMatch(/^\$ export SUPABASE_DB_URL=postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/m);
    expect(run.stdout).toMatch(/^applied drift_guard schema version \d{14}$/m);
  });

  it("runs each step with the exit code the contract gives it", () => {
    const commands = [...run.stdout.matchAll(/^\$ (drift-guard \S+)/gm)].map((m) => m[1]);
    const codes = [...run.stdout.matchAll(/^\[exit (\d+):/gm)].map((m) => Number(m[1]));
    expect(commands.map((c, i) => `${c} -> ${codes[i]}`)).toEqual([
      "drift-guard install -> 0",
      "drift-guard check -> 1",
      "drift-guard ledger -> 0", // who ran the legacy files by hand
      "drift-guard repair -> 0", // --mark-reverted, dry run
      "drift-guard fetch -> 0",
      "drift-guard check -> 1",
      "drift-guard repair -> 0", // --mark-applied without --force-different: a dry run that says it cannot be applied as is
      "drift-guard repair -> 0", // --mark-applied --force-different, dry run
      "drift-guard repair -> 0", // --apply --expect-digest
      "drift-guard check -> 0",
      "drift-guard repair -> 4", // the same apply again: the digest moved
      "drift-guard undo -> 0",
      "drift-guard audit -> 0",
      "drift-guard check -> 1",
    ]);
  });

  it("check: 78 remote_only; the 11 legacy files identical, the one changed by hand later different", () => {
    expect(run.stdout).toMatch(/^drift: 90 of 90 migration\(s\) differ from the history, \d+ object\(s\) changed outside migrations\nin_sync 0 · edited 0 · renamed 0 · pending 0 · out_of_order 12 · remote_only 78$/m);
    for (const m of demo.LEGACY_MIGRATIONS) {
      expect(run.stdout).toMatch(new RegExp(`^${m.version}\\s+out_of_order\\s+${m.name}\\s+identical \\((\\d+)/\\1 objects as the file builds them\\)`, "m"));
    }
    const hand = demo.HAND_CHANGED_MIGRATION;
    expect(run.stdout).toMatch(new RegExp(`^${hand.version}\\s+out_of_order\\s+${hand.name}\\s+different `, "m"));
    expect(run.stdout).toContain("      - function public.automation_daily_limit(): body differs");
    expect(run.stdout).not.toMatch(new RegExp(`--mark-applied [0-9 ]*\\b${hand.version}\\b[0-9 ]* --reason "<why>"`));
    for (const table of ["automation_rules", "automation_feedback", "automation_history"]) {
      expect(run.stdout).toContain(`✓ table public.${table}`);
    }
  });

  it("the ledger says who ran the legacy files by hand, and when; the repair links those entries", () => {
    expect(run.stdout).toMatch(/^Untracked schema changes \(ran outside any migration\): \d+ object\(s\)$/m);
    expect(run.stdout).toMatch(/^ {2}table public\.automation_rules: 2 change\(s\) \d{4}-\d\d-\d\d \d\d:\d\d.* UTC by postgres via psql \(claimed by the client\) from 127\.0\.0\.1 \(#\d+ #\d+\)$/m);
    const start = run.stdout.indexOf("\n$ drift-guard ledger --status untracked");
    expect(start).toBeGreaterThan(0);
    const ledger = run.stdout.slice(start, run.stdout.indexOf("[exit", start));
    expect(ledger).toMatch(/^\d+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+untracked\s+CREATE TABLE\s+public\.automation_rules\s+postgres via psql \(claimed by the client\) from 127\.0\.0\.1\s+-- Automation rules create table/m);
    // The 78 pushed migrations are tracked by their versions: none of their objects is listed.
    expect(ledger).not.toMatch(/ventures/);
    expect(run.stdout).toMatch(/^Linked \d+ untracked ledger entries to the versions marked applied/m);
  });

  it("shows that the write-up's --status reverted would delete history rows, without applying it", () => {
    const section = run.stdout.slice(run.stdout.indexOf("$ drift-guard repair --mark-reverted"), run.stdout.indexOf("── 7."));
    expect(section).toMatch(/^Plan \(dry run, nothing written\)/m);
    expect(section.match(/^ {2}delete {2}\d{14}/gm)).toHaveLength(3);
    expect(section).toContain("The SQL it ran stays in the database, and db push will run it again whenever its file is present");
  });

  it("the different file: two steps, and a plan without --force-different that says it cannot be applied as is", () => {
    const live = /^\$ # save the SQL above as (supabase\/migrations\/(\d{14})_record_live_definitions_014\.sql)$/m.exec(run.stdout);
    expect(live).not.toBeNull();
    expect(run.stdout).toMatch(/^Not applicable as is: 014 would record SQL that never ran this way\.$/m);
    expect(run.stdout).toContain("014: DIFFERENT: its objects exist live, but not as the file builds them: function public.automation_daily_limit(): body differs");
    expect(run.stdout).toMatch(new RegExp(`^\\$ drift-guard repair --mark-applied .* 014 ${live![2]} --force-different --reason .* --apply --expect-digest sha256:[0-9a-f]{64}$`, "m"));
  });

  it("fetches the 78, marks the 11, 014 and its record applied (not reverted), applies the reviewed plan, and verifies", () => {
    expect(run.stdout).toMatch(/^78 file\(s\) written\. Review and commit them\.$/m);
    expect(run.stdout).toContain("in_sync 78 · edited 0 · renamed 0 · pending 0 · out_of_order 12 · remote_only 0");
    const planDigest = /^Plan \(dry run, nothing written\) against history (sha256:[0-9a-f]{64})$/m.exec(
      run.stdout.slice(run.stdout.indexOf("$ drift-guard repair --mark-applied")),
    )![1];
    expect(run.stdout).toContain(`$ drift-guard repair --mark-applied ${demo.LEGACY_MIGRATIONS.map((m) => m.version).join(" ")} 014 `);
    expect(run.stdout).toMatch(new RegExp(`^\\$ drift-guard repair --mark-applied .* --apply --expect-digest sha256:[0-9a-f]{64}$`, "m"));
    expect(run.stdout.match(/^ {2}insert {2}0\d\d {2}/gm)).toHaveLength(36); // two plans and the applied result, 12 each
    expect(run.stdout).toMatch(/^in sync: 91 migration\(s\) match the history/m);
    expect(run.stdout).toMatch(/^drift-guard: the plan changed since it was reviewed/m);
  });

  it("undo puts the digest back to the one the repair was planned against, and the audit shows both", () => {
    const planDigest = /^Plan \(dry run, nothing written\) against history (sha256:[0-9a-f]{64})$/m.exec(run.stdout)![1];
    expect(run.stdout).toMatch(new RegExp(`^Undone [0-9a-f-]{36}\\. History is now ${planDigest}$`, "m"));
    expect(run.stdout).toContain(`✓ the history digest is back to ${planDigest},`);
    expect(run.stdout).toMatch(/ {2}undo {2}[0-9a-f-]{36} {2}\(undoes [0-9a-f-]{36}\)/);
    expect(run.stdout).toMatch(/ {2}repair {2}[0-9a-f-]{36} {2}\(undone by [0-9a-f-]{36}\)/);
  });

  it("cleans up its temp dir", () => {
    const work = /runs the real CLI \(bin\/drift-guard\.js\) in (\S+?);/.exec(run.stdout)![1];
    expect(work).toMatch(/drift-guard-demo-/);
    expect(existsSync(work)).toBe(false);
  });

  it("marks what it shortens, and --full shortens nothing", () => {
    expect(run.stdout).toMatch(/^⋮ 73 more like these \(npm run demo -- --full shows every line\)$/m);
    // The suggested fetch needs no version list: without versions it writes every remote-only migration.
    expect(run.stdout).toMatch(/^ {5}\$ drift-guard fetch$/m);
    expect(full.status, full.stdout + full.stderr).toBe(0);
    expect(full.stdout).not.toContain("⋮");
    expect(full.stdout).not.toContain("more]…");
    expect(full.stdout.match(/^wrote supabase\/migrations\/\d{14}_\w+\.sql$/gm)).toHaveLength(78);
    expect(full.stdout.match(/^\d{14}\s+remote_only\s/gm)).toHaveLength(78);
  });

  it("rejects unknown arguments", () => {
    const r = spawnSync(process.execPath, [DEMO, "--bogus"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("usage: npm run demo [-- --full]");
  });
});

describe("the demo's incident data", () => {
  it("has the seed's shape: 78 versions from 20250828095134 to 20251025212010, 11 legacy files", () => {
    const versions = demo.REMOTE_MIGRATIONS.map((m) => m.version);
    expect(versions).toHaveLength(78);
    expect(new Set(versions).size).toBe(78);
    expect([...versions].sort()).toEqual(versions);
    expect(versions.slice(0, 3)).toEqual(["20250828095134", "20250828095254", "20250828095417"]);
    expect(versions.at(-1)).toBe("20251025212010");
    expect(demo.LEGACY_MIGRATIONS.map((m) => m.fileName)).toEqual([
      "004_automation_rules.sql", "008_automation_feedback.sql", "009_automation_history.sql", "010_automation_indexes.sql",
      "011_automation_functions.sql", "012_automation_rls.sql", "017_notification_settings.sql", "018_change_log_trigger.sql",
      "019_user_preferences.sql", "020_feature_flags.sql", "021_automation_dashboard_view.sql",
    ]);
  });

  it("its files split into exactly the statements it records (our CLI-exact splitter)", () => {
    for (const m of [...demo.REMOTE_MIGRATIONS, ...demo.LEGACY_MIGRATIONS]) {
      expect(splitStatements(demo.migrationFileText(m.statements)), m.name).toEqual(m.statements);
    }
  });

  describe("against the real Supabase CLI and PostgreSQL 15", () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase("demo_seed");
    });
    afterAll(() => db?.drop());

    it("`supabase db push` of the 78 files records exactly the rows the demo inserts", async () => {
      // The legacy SQL ran by hand first, as in the incident (later migrations build on it).
      for (const m of demo.LEGACY_MIGRATIONS) await db.sql.unsafe(demo.migrationFileText(m.statements));
      const project = makeProject(Object.fromEntries(demo.REMOTE_MIGRATIONS.map((m) => [`${m.version}_${m.name}.sql`, demo.migrationFileText(m.statements)])));
      supabasePush(db.url, project);
      const rows = await db.sql<{ version: string; name: string; statements: string[] }[]>`
        select version, name, statements from supabase_migrations.schema_migrations order by version`;
      expect(rows.map((r) => ({ version: r.version, name: r.name, statements: r.statements }))).toEqual(
        demo.REMOTE_MIGRATIONS.map((m) => ({ version: m.version, name: m.name, statements: m.statements })),
      );
    });
  });
});
