/**
 * drift-guard on a PostgreSQL shaped like hosted Supabase (tests/harness/hosted_postgres.ts):
 * supabase_admin is the superuser, `postgres` is not, supautils is preloaded with the platform's
 * settings. Everything here runs as `postgres`, as a user of a hosted project does: init, then
 * `supabase db push` with the real CLI, the ledger active, a change made outside any migration
 * recorded, a repair that links it and its undo.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./harness/cli_in_process.ts";
import { type HostedServer, hostedSkipReason, startHostedPostgres } from "./harness/hosted_postgres.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const A = "20240101000000";
const HOTFIX = "20240301000000";
const TITLE = "on hosted Supabase's shape (postgres not a superuser, supautils preloaded)";
const reason = hostedSkipReason();

describe.skipIf(reason !== null)(reason ? `${TITLE} ${reason}` : TITLE, () => {
  let hosted: HostedServer;
  let db: { name: string; url: string; sql: postgres.Sql; drop(): Promise<void> };
  let project: string;
  const migrations = () => join(project, "supabase", "migrations");
  const cli = async (args: string[], status = 0) => {
    const r = await runCli(args);
    expect(r.status, `drift-guard ${args.join(" ")}\n${r.stderr}\n${r.stdout}`).toBe(status);
    return r.stdout;
  };

  beforeAll(async () => {
    hosted = await startHostedPostgres();
    db = await hosted.database("platform");
    project = makeProject({ [`${A}_accounts.sql`]: "create table public.accounts (id uuid primary key default extensions.gen_random_uuid(), name text);\n" });
    writeFileSync(join(project, "supabase", "config.toml"), 'project_id = "hosted-shape"\n');
    await cli(["init", "--workdir", project]);
    supabasePush(db.url, project);
  });
  afterAll(async () => {
    await db?.drop();
    hosted?.destroy();
  });

  it("connects as postgres, which is not a superuser, on a cluster whose superuser is supabase_admin", async () => {
    const [me] = await db.sql`select current_user as name, r.rolsuper as superuser from pg_catalog.pg_roles r where r.rolname = current_user`;
    expect(me).toEqual({ name: "postgres", superuser: false });
    const [admin] = await db.sql`select rolsuper from pg_catalog.pg_roles where rolname = 'supabase_admin'`;
    expect(admin.rolsuper).toBe(true);
  });

  it("db push as postgres installed drift_guard, and the ledger is active", async () => {
    const [{ s }] = await db.sql`select drift_guard.ledger_status() as s`;
    expect(s).toMatchObject({ active: true, history_trigger: true });
    const [{ n }] = await db.sql`select count(*)::int as n from supabase_migrations.schema_migrations where version = ${A}`;
    expect(n).toBe(1);
    await cli(["check", "--db-url", db.url, "--migrations", migrations()]);
  });

  it("a change made by postgres outside any migration is recorded, and repair then undo as postgres link and unlink it", async () => {
    await db.sql.unsafe("create table public.hotfix (id int primary key)");
    const untracked = JSON.parse(await cli(["ledger", "--db-url", db.url, "--status", "untracked", "--format", "json"])).entries;
    expect(untracked.map((e: { object_identity: string }) => e.object_identity)).toContain("public.hotfix");

    writeFileSync(join(migrations(), `${HOTFIX}_hotfix.sql`), "create table public.hotfix (id int primary key);\n");
    await cli(["check", "--db-url", db.url, "--migrations", migrations()], 1);
    const repair = ["repair", "--db-url", db.url, "--migrations", migrations(), "--mark-applied", HOTFIX, "--reason", "hotfix from the dashboard", "--format", "json"];
    const plan = JSON.parse(await cli(repair));
    const applied = JSON.parse(await cli([...repair, "--apply", "--expect-digest", plan.plan_digest]));
    expect(applied.audit_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(applied.ledger_linked).toBeGreaterThan(0);
    await cli(["check", "--db-url", db.url, "--migrations", migrations()], 0);
    const linked = JSON.parse(await cli(["ledger", "--db-url", db.url, "--object", "hotfix", "--format", "json"])).entries;
    expect(linked.find((e: { object_identity: string }) => e.object_identity === "public.hotfix")).toMatchObject({ status: "linked", linked_version: HOTFIX });

    await cli(["undo", "--db-url", db.url, "--audit-id", applied.audit_id, "--reason", "not yet"]);
    await cli(["check", "--db-url", db.url, "--migrations", migrations()], 1);
    const audit = JSON.parse(await cli(["audit", "--db-url", db.url, "--format", "json"]));
    expect(audit.map((e: { kind: string }) => e.kind).slice(0, 2)).toEqual(["undo", "repair"]);
  }, 300_000);
});
