/**
 * The DDL ledger on real Postgres 15 with the real Supabase CLI: what is recorded, how
 * it is classified (tracked by a db push's version, or untracked), that it never breaks
 * DDL, who may read it, and how check, repair and ack use it.
 */
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimAlert, ledgerFingerprint, markAlerted, releaseAlert } from "../db/ledger.ts";
import { createTestDatabase, databaseUrl, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject, supabasePush, supabaseRepair } from "./harness/supabase_cli.ts";

const V1 = "20250901000000";
const V2 = "20250902000000";
const V3 = "20251210000000";

interface Row {
  id: string;
  command_tag: string;
  object_type: string | null;
  object_identity: string | null;
  schema_name: string | null;
  session_user_name: string;
  current_user_name: string;
  application_name: string | null;
  client_addr: string | null;
  jwt_sub: string | null;
  jwt_role: string | null;
  statement: string | null;
  statement_length: number | null;
  statement_hash: string | null;
  hash_stored: boolean;
  tracked_by: string[];
  linked_version: string | null;
  linked_audit_id: string | null;
}

/** Ledger rows with their classification, as db/ledger.ts computes it. */
async function ledgerRows(sql: postgres.Sql): Promise<Row[]> {
  return await sql<Row[]>`
    select l.id::text, l.command_tag, l.object_type, l.object_identity, l.schema_name, l.session_user_name, l.current_user_name,
           l.application_name, host(l.client_addr) as client_addr, l.jwt_sub, l.jwt_role, l.statement, l.statement_length,
           coalesce(l.statement_hash, 'sha256:' || encode(sha256(convert_to(l.statement, 'UTF8')), 'hex')) as statement_hash,
           l.statement_hash is not null as hash_stored, l.linked_version, l.linked_audit_id::text,
           coalesce((select array_agg(distinct w.version) from drift_guard.history_writes w where w.txid = l.txid and w.op <> 'delete'), '{}') as tracked_by
    from drift_guard.ddl_ledger l order by l.id`;
}

/** psql, as a person at a terminal runs it: its own connection, its own application_name. */
function psql(url: string, command: string, appName: string): void {
  const r = spawnSync("psql", [url, "-X", "-v", "ON_ERROR_STOP=1", "-q", "-c", command], {
    encoding: "utf8",
    env: { ...process.env, PGAPPNAME: appName },
  });
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
}

describe("the DDL ledger", () => {
  let db: TestDatabase;
  let project: string;
  const migrations = () => join(project, "supabase/migrations");

  beforeAll(async () => {
    db = await createTestDatabase("ledger");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
    project = makeProject({ [`${V1}_create_accounts.sql`]: "create table public.accounts (id bigint primary key, name text);\n" });
  });
  afterAll(async () => {
    await db?.drop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("is active after drift-guard install on a database the CLI never touched", async () => {
    const [{ s }] = await db.sql`select drift_guard.ledger_status() as s`;
    expect(s).toMatchObject({ active: true, history_trigger: false, errors: 0 });
    expect(await ledgerRows(db.sql)).toEqual([]); // our own install is not recorded
  });

  it("supabase db push: tracked by its version (the history trigger attaches itself when the CLI creates the table)", async () => {
    supabasePush(db.url, project);
    const [{ s }] = await db.sql`select drift_guard.ledger_status() as s`;
    expect(s.history_trigger).toBe(true);
    const rows = (await ledgerRows(db.sql)).filter((r) => r.object_identity?.startsWith("public.accounts"));
    expect(rows.length).toBeGreaterThan(0);
    const table = rows.find((r) => r.object_identity === "public.accounts")!;
    expect(table).toMatchObject({ command_tag: "CREATE TABLE", object_type: "table", tracked_by: [V1], application_name: "@effect/sql-pg" });
    expect(rows.every((r) => r.tracked_by.join() === V1)).toBe(true);
    // The CLI's own schema (supabase_migrations) is a platform schema: not recorded.
    expect((await ledgerRows(db.sql)).filter((r) => r.object_identity?.includes("supabase_migrations"))).toEqual([]);
  });

  it("psql DDL with PGAPPNAME set is untracked and carries that name, the user and the client address", async () => {
    const url = db.url.replace("127.0.0.1", "localhost");
    psql(url, "create table public.automation_rules (id bigint primary key)", "ops-laptop-psql");
    const [row] = (await ledgerRows(db.sql)).filter((r) => r.object_identity === "public.automation_rules");
    expect(row).toMatchObject({
      command_tag: "CREATE TABLE",
      tracked_by: [],
      application_name: "ops-laptop-psql",
      session_user_name: "postgres",
      current_user_name: "postgres",
      statement: "create table public.automation_rules (id bigint primary key)",
    });
    expect(row.client_addr).toMatch(/^(127\.0\.0\.1|::1)$/);
    // A statement stored whole is hashed by readers, not by the trigger on the DDL's path.
    expect(row.hash_stored).toBe(false);
    const [{ h }] = await db.sql`select 'sha256:' || encode(sha256(convert_to(${row.statement}, 'UTF8')), 'hex') as h`;
    expect(row.statement_hash).toBe(h);
  });

  it("records a DO block's DDL, drop, rename, grant and revoke; SET ROLE shows as current_user", async () => {
    await db.sql.unsafe("do $$ begin execute 'create table public.from_do (id int)'; end $$");
    await db.sql.unsafe("alter table public.from_do rename to renamed_do");
    await db.sql.unsafe("grant select on public.renamed_do to service_role");
    await db.sql.unsafe("revoke select on public.renamed_do from service_role");
    await db.sql.unsafe("drop table public.renamed_do");
    await db.sql.begin(async (tx) => {
      await tx.unsafe("create role dg_ledger_dev nologin; grant create on schema public to dg_ledger_dev; set local role dg_ledger_dev");
      await tx.unsafe("create table public.by_dev (id int)");
    });
    const rows = await ledgerRows(db.sql);
    const tags = rows.map((r) => [r.command_tag, r.object_identity]);
    expect(tags).toContainEqual(["CREATE TABLE", "public.from_do"]);
    expect(tags).toContainEqual(["ALTER TABLE", "public.renamed_do"]);
    expect(tags).toContainEqual(["DROP TABLE", "public.renamed_do"]);
    expect(rows.find((r) => r.command_tag === "GRANT")).toMatchObject({ object_type: "table", statement: "grant select on public.renamed_do to service_role" });
    expect(rows.find((r) => r.command_tag === "REVOKE")).toMatchObject({ object_type: "table" });
    expect(rows.find((r) => r.object_identity === "public.by_dev")).toMatchObject({ session_user_name: "postgres", current_user_name: "dg_ledger_dev" });
    // A role with no privilege on drift_guard is recorded all the same (the trigger function is the owner's).
    expect(rows.find((r) => r.object_identity === "public.by_dev")!.tracked_by).toEqual([]);
    // One INSERT serves both events: neither ever calls the other event's function (which would raise).
    const [{ errors }] = await db.sql`select errors::int from drift_guard.ledger_health`;
    expect(errors).toBe(0);
  });

  it("DDL in a rolled-back transaction leaves no entry; temporary objects are not recorded", async () => {
    const before = (await ledgerRows(db.sql)).length;
    await db.sql.begin(async (tx) => {
      await tx.unsafe("create table public.never_committed (id int)");
      throw new Error("rollback");
    }).catch(() => {});
    await db.sql.begin((tx) => tx.unsafe("create temporary table scratch (id int)"));
    expect((await ledgerRows(db.sql)).length).toBe(before);
  });

  it("records the JWT's sub and role when the session carries claims, and survives a claim jsonb rejects (\\u0000)", async () => {
    await db.sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: "user-1", role: "service_role" })}, true)`;
      await tx.unsafe("create table public.via_api (id int)");
    });
    await db.sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${'{"sub":"nul\\u0000byte","role":"x"}'}, true)`;
      await tx.unsafe("create table public.nul_claim (id int)");
    });
    const rows = await ledgerRows(db.sql);
    expect(rows.find((r) => r.object_identity === "public.via_api")).toMatchObject({ jwt_sub: "user-1", jwt_role: "service_role" });
    expect(rows.find((r) => r.object_identity === "public.nul_claim")).toMatchObject({ jwt_sub: "nulbyte", jwt_role: "x" });
  });

  it("a huge statement is stored truncated, with its full length and the hash of the whole", async () => {
    const huge = `create table public.huge (note text default '${"x".repeat(300_000)}')`;
    await db.sql.unsafe(huge);
    const [row] = (await ledgerRows(db.sql)).filter((r) => r.object_identity === "public.huge");
    expect(row.statement!.length).toBe(4096);
    expect(row.statement_length).toBe(huge.length);
    const [{ h }] = await db.sql`select 'sha256:' || encode(sha256(convert_to(${huge}, 'UTF8')), 'hex') as h`;
    expect(row.statement_hash).toBe(h);
  });

  it("a trigger made to fail inside lets the DDL succeed, and the failure is counted", async () => {
    const [{ errors: before }] = await db.sql`select errors::int from drift_guard.ledger_health`;
    await db.sql.unsafe("alter table drift_guard.ddl_ledger add constraint test_reject_all check (false) not valid");
    try {
      await db.sql.unsafe("create table public.survives (id int)");
      const [{ exists }] = await db.sql`select to_regclass('public.survives') is not null as exists`;
      expect(exists).toBe(true);
    } finally {
      await db.sql.unsafe("alter table drift_guard.ddl_ledger drop constraint test_reject_all");
    }
    const [health] = await db.sql`select errors::int, last_error_sqlstate from drift_guard.ledger_health`;
    expect(health.errors).toBe(before + 1);
    expect(health.last_error_sqlstate).toBe("23514");
    expect((await ledgerRows(db.sql)).find((r) => r.object_identity === "public.survives")).toBeUndefined();
  });

  it("an entry links or acknowledges only an audit entry that exists (what a foreign key would check, off the DDL's path)", async () => {
    await db.sql.unsafe("create table public.fk_check (id int)");
    const [{ id }] = await db.sql`select id::text from drift_guard.ddl_ledger where object_identity = 'public.fk_check'`;
    for (const column of ["linked_audit_id", "acked_audit_id"]) {
      const err = await db.sql.unsafe(`update drift_guard.ddl_ledger set ${column} = '7f50813c-009a-41e3-9616-ec72f847c37a' where id = ${id}`).catch((e) => e);
      expect(err).toMatchObject({ code: "23503", message: "no audit entry has id 7f50813c-009a-41e3-9616-ec72f847c37a" });
    }
    const [row] = await db.sql`select linked_audit_id, acked_audit_id from drift_guard.ddl_ledger where id = ${id}`;
    expect(row).toEqual({ linked_audit_id: null, acked_audit_id: null });
  });

  it("anon and authenticated cannot read the ledger, with or without claims; service_role can", async () => {
    for (const role of ["anon", "authenticated"]) {
      for (const table of ["ddl_ledger", "history_writes", "ledger_settings", "ledger_health"]) {
        const err = await db.sql.begin(async (tx) => {
          await tx.unsafe(`set local role ${role}`);
          await tx`select set_config('request.jwt.claims', ${JSON.stringify({ role, app_metadata: { drift_guard_role: "admin" } })}, true)`;
          await tx.unsafe(`select * from drift_guard.${table}`);
        }).then(() => null, (e) => e.code);
        expect(err, `${role} ${table}`).toBe("42501");
      }
    }
    const rows = await db.sql.begin(async (tx) => {
      await tx.unsafe("set local role service_role");
      return await tx.unsafe("select count(*)::int as n from drift_guard.ddl_ledger");
    });
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it("check reports untracked changes grouped by object, with who and from where: exit 1, json/markdown/text", async () => {
    writeFileSync(join(migrations(), `${V2}_automation_rules.sql`), "create table public.automation_rules (id bigint primary key);\n");
    const json = await runCli(["check", "--db-url", db.url, "--migrations", migrations(), "--format", "json"]);
    expect(json.status, json.stderr).toBe(1);
    const report = JSON.parse(json.stdout);
    const rules = report.untracked_changes.find((g: any) => g.object === "table public.automation_rules");
    expect(rules).toMatchObject({ object_identity: "public.automation_rules", schema: "public" });
    expect(rules.who[0]).toMatch(/^postgres via ops-laptop-psql \(claimed by the client\) from (127\.0\.0\.1|::1)$/);
    expect(rules.changes[0]).toMatchObject({ command_tag: "CREATE TABLE", application_name: "ops-laptop-psql", claimed: ["application_name"] });
    // Tracked DDL is not drift.
    expect(report.untracked_changes.find((g: any) => g.object_identity === "public.accounts")).toBeUndefined();
    expect(report.actions.find((a: any) => a.kind === "ledger_ack").command).toMatch(/^drift-guard ledger ack --id [0-9 ]+/);

    const md = await runCli(["check", "--db-url", db.url, "--migrations", migrations(), "--format", "markdown"]);
    expect(md.stdout).toContain("### Untracked schema changes");
    expect(md.stdout).toContain("`table public.automation_rules`");
    const text = await runCli(["check", "--db-url", db.url, "--migrations", migrations()]);
    expect(text.stdout).toMatch(/Untracked schema changes/);
    expect(text.stdout).toMatch(/table public\.automation_rules: 1 change\(s\) .* by postgres via ops-laptop-psql \(claimed by the client\)/);

    // --since after everything: nothing untracked, only the out-of-order file remains.
    const later = await runCli(["check", "--db-url", db.url, "--migrations", migrations(), "--format", "json", "--since", "2999-01-01"]);
    expect(JSON.parse(later.stdout).untracked_changes).toEqual([]);
    expect((await runCli(["check", "--db-url", db.url, "--migrations", migrations(), "--since", "yesterday"])).status).toBe(2);
  });

  it("supabase migration repair --status applied does not make earlier DDL tracked; drift-guard's repair links it", async () => {
    supabaseRepair(db.url, project, "applied", [V2]);
    let row = (await ledgerRows(db.sql)).find((r) => r.object_identity === "public.automation_rules")!;
    expect(row.tracked_by).toEqual([]);
    expect(row.linked_version).toBeNull();

    // Undo the CLI's repair, then repair with drift-guard.
    supabaseRepair(db.url, project, "reverted", [V2]);
    const plan = await runCli(["repair", "--db-url", db.url, "--migrations", migrations(), "--mark-applied", V2, "--reason", "ran by hand from a laptop", "--format", "json"]);
    expect(plan.status, plan.stderr).toBe(0);
    const digest = JSON.parse(plan.stdout).plan_digest;
    const applied = await runCli(["repair", "--db-url", db.url, "--migrations", migrations(), "--mark-applied", V2, "--reason", "ran by hand from a laptop",
      "--apply", "--expect-digest", digest, "--format", "json"]);
    expect(applied.status, applied.stderr).toBe(0);
    const result = JSON.parse(applied.stdout);
    expect(result.ledger_linked).toBe(2); // the table and its primary-key index
    row = (await ledgerRows(db.sql)).find((r) => r.object_identity === "public.automation_rules")!;
    expect(row).toMatchObject({ linked_version: V2, linked_audit_id: result.audit_id, tracked_by: [] });

    const ledger = await runCli(["ledger", "--db-url", db.url, "--object", "automation_rules", "--format", "json"]);
    expect(ledger.status, ledger.stderr).toBe(0);
    expect(JSON.parse(ledger.stdout).entries.map((e: any) => [e.object_identity, e.status, e.linked_version, e.linked_audit_id])).toEqual([
      ["public.automation_rules", "linked", V2, result.audit_id],
      ["public.automation_rules_pkey", "linked", V2, result.audit_id],
    ]);
    const check = JSON.parse((await runCli(["check", "--db-url", db.url, "--migrations", migrations(), "--format", "json"])).stdout);
    expect(check.untracked_changes.find((g: any) => g.object_identity === "public.automation_rules")).toBeUndefined();

    // Undoing the repair undoes the link; repairing again links again.
    expect((await runCli(["undo", "--db-url", db.url, "--audit-id", result.audit_id, "--reason", "not yet"])).status).toBe(0);
    const unlinked = JSON.parse((await runCli(["ledger", "--db-url", db.url, "--object", "automation_rules", "--format", "json"])).stdout).entries;
    expect(unlinked.map((e: any) => e.status)).toEqual(["untracked", "untracked"]);
    const replan = JSON.parse((await runCli(["repair", "--db-url", db.url, "--migrations", migrations(), "--mark-applied", V2, "--reason", "again", "--format", "json"])).stdout);
    const again = await runCli(["repair", "--db-url", db.url, "--migrations", migrations(), "--mark-applied", V2, "--reason", "again",
      "--apply", "--expect-digest", replan.plan_digest, "--format", "json"]);
    expect(JSON.parse(again.stdout).ledger_linked).toBe(2);
  });

  it("ledger filters by status, object and time, in text, json and markdown", async () => {
    const tracked = JSON.parse((await runCli(["ledger", "--db-url", db.url, "--status", "tracked", "--format", "json"])).stdout).entries;
    expect(tracked.length).toBeGreaterThan(0);
    expect(tracked.every((e: any) => e.status === "tracked" && e.tracked_by.includes(V1))).toBe(true);
    const untracked = JSON.parse((await runCli(["ledger", "--db-url", db.url, "--status", "untracked", "--format", "json"])).stdout).entries;
    expect(untracked.map((e: any) => e.object_identity)).toContain("public.huge");
    expect(untracked.every((e: any) => e.status === "untracked")).toBe(true);
    expect(JSON.parse((await runCli(["ledger", "--db-url", db.url, "--until", "2000-01-01", "--format", "json"])).stdout).entries).toEqual([]);
    const text = await runCli(["ledger", "--db-url", db.url, "--object", "huge"]);
    expect(text.stdout).toMatch(/untracked\s+CREATE TABLE\s+public\.huge\s+postgres/);
    const md = await runCli(["ledger", "--db-url", db.url, "--object", "huge", "--format", "markdown"]);
    expect(md.stdout).toMatch(/^\| id \| when \(UTC\) \|/);
    expect((await runCli(["ledger", "--db-url", db.url, "--status", "nope"])).status).toBe(2);
  });

  it("ledger ack marks entries reviewed, audited like a repair; then check is clean of them; bad ids change nothing", async () => {
    const bad = await runCli(["ledger", "ack", "--db-url", db.url, "--id", "999999", "--reason", "x"]);
    expect(bad.status, bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/no ledger entry has id 999999/);
    expect((await runCli(["ledger", "ack", "--db-url", db.url, "--id", "1;drop", "--reason", "x"])).status).toBe(2);
    expect((await runCli(["ledger", "ack", "--db-url", db.url, "--id", "1"])).status).toBe(2);

    const before = JSON.parse((await runCli(["check", "--db-url", db.url, "--migrations", migrations(), "--format", "json"])).stdout);
    const ids = before.untracked_changes.flatMap((g: any) => g.changes.map((c: any) => c.id));
    expect(ids.length).toBeGreaterThan(0);
    const ack = await runCli(["ledger", "ack", "--db-url", db.url, "--id", ...ids, "--reason", "reviewed: test fixtures", "--format", "json"]);
    expect(ack.status, ack.stderr).toBe(0);
    const { audit_id, acknowledged } = JSON.parse(ack.stdout);
    expect(acknowledged).toBe(ids.length);

    const audit = JSON.parse((await runCli(["audit", "--db-url", db.url, "--format", "json"])).stdout);
    expect(audit[0]).toMatchObject({ id: audit_id, kind: "ack", reason: "reviewed: test fixtures" });
    const undo = await runCli(["undo", "--db-url", db.url, "--audit-id", audit_id, "--reason", "try"]);
    expect(undo.status).toBe(2);

    // Only the migration history is left to judge: the repair made it in sync.
    const after = await runCli(["check", "--db-url", db.url, "--migrations", migrations(), "--format", "json"]);
    expect(JSON.parse(after.stdout).untracked_changes).toEqual([]);
    expect(after.status, after.stdout).toBe(0);
  });

  it("prunes to its retention setting", async () => {
    await db.sql`update drift_guard.ledger_settings set retention_rows = 3`;
    await db.sql`select drift_guard.ledger_prune()`;
    const [{ n }] = await db.sql`select count(*)::int as n from drift_guard.ddl_ledger`;
    expect(n).toBeLessThanOrEqual(3);
    await db.sql`update drift_guard.ledger_settings set retention_rows = 100000`;
  });

  it("skips platform roles by the documented setting", async () => {
    await db.sql.unsafe("do $$ begin if not exists (select from pg_roles where rolname = 'supabase_auth_admin') then create role supabase_auth_admin login password 'pw'; end if; end $$");
    await db.sql.unsafe("grant create on schema public to supabase_auth_admin");
    const platform = postgres(databaseUrl(db.name, "pw", "supabase_auth_admin"), { onnotice: () => {}, max: 1 });
    try {
      await platform.unsafe("create table public.platform_made (id int)");
    } finally {
      await platform.end();
    }
    expect((await ledgerRows(db.sql)).find((r) => r.object_identity === "public.platform_made")).toBeUndefined();
  });
});

describe("alert claims and the /status cache key, on a long ledger", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("ledger_alerts");
    expect((await runCli(["install", "--db-url", db.url])).status).toBe(0);
    await db.sql.unsafe(`insert into drift_guard.ddl_ledger (event, command_tag, object_type, object_identity, schema_name)
      select 'ddl_command_end', 'CREATE TABLE', 'table', 'public.t' || i, 'public' from generate_series(1, 20000) i`);
    await db.sql.unsafe("analyze drift_guard.ddl_ledger");
  });
  afterAll(async () => {
    await db?.drop();
  });

  const ids = async (n: number) => (await db.sql.unsafe<{ id: string }[]>(`select id::text from drift_guard.ddl_ledger order by id limit ${n}`)).map((r) => r.id);

  it("a change is claimed by one check at a time; a released or lapsed claim is claimed again; a sent one never", async () => {
    const [a, b, c] = await ids(3);
    expect(await claimAlert(db.sql, [a, b], 60_000)).toEqual([a, b]);
    expect(await claimAlert(db.sql, [a, b, c], 60_000)).toEqual([c]);
    expect(await releaseAlert(db.sql, [a])).toBe(1);
    expect(await claimAlert(db.sql, [a, b], 60_000)).toEqual([a]);
    // A check that died while delivering: its claim lapses.
    await db.sql.unsafe(`update drift_guard.ddl_ledger set alert_claimed_until = clock_timestamp() - interval '1 second' where id = ${b}`);
    expect(await claimAlert(db.sql, [b], 60_000)).toEqual([b]);
    expect(await markAlerted(db.sql, [a, b, c])).toBe(3);
    expect(await claimAlert(db.sql, [a, b, c], 0)).toEqual([]);
    expect(await releaseAlert(db.sql, [a])).toBe(0);
    await expect(claimAlert(db.sql, ["1; drop table drift_guard.ddl_ledger"], 1000)).rejects.toMatchObject({ code: "22P02" });
  });

  it("the cache key changes with a new entry and a delivered alert, and scans no ledger row to do so", async () => {
    const key = await ledgerFingerprint(db.sql);
    const [next] = await ids(4).then((x) => x.slice(3));
    await markAlerted(db.sql, [next]);
    const afterAlert = await ledgerFingerprint(db.sql);
    expect(afterAlert).not.toBe(key);
    await db.sql.unsafe("create table public.one_more (id int)");
    expect(await ledgerFingerprint(db.sql)).not.toBe(afterAlert);
    // The backend's sequential-scan counter for the ledger, before and after, on one connection.
    const scans = await db.sql.begin(async (tx) => {
      const count = async () =>
        Number((await tx.unsafe<{ seq: string }[]>("select pg_stat_get_xact_numscans('drift_guard.ddl_ledger'::regclass)::text as seq"))[0].seq);
      const before = await count();
      await ledgerFingerprint(tx as unknown as typeof db.sql);
      return (await count()) - before;
    });
    expect(scans).toBe(0);
  });
});

describe("the ledger installed by init's migration through supabase db push", () => {
  let db: TestDatabase;
  let project: string;
  beforeAll(async () => {
    db = await createTestDatabase("ledger_push");
  });
  afterAll(async () => {
    await db?.drop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("records and classifies like drift-guard install does", async () => {
    const { readFileSync, readdirSync } = await import("node:fs");
    const dir = join(import.meta.dirname, "..", "supabase", "migrations");
    const files: Record<string, string> = {};
    for (const f of readdirSync(dir).filter((f) => /drift_guard.*\.sql$/.test(f))) files[f] = readFileSync(join(dir, f), "utf8");
    files[`${V3}_widgets.sql`] = "create table public.widgets (id int);\n";
    project = makeProject(files);
    supabasePush(db.url, project);
    const [{ s }] = await db.sql`select drift_guard.ledger_status() as s`;
    expect(s).toMatchObject({ active: true, history_trigger: true });
    psql(db.url, "alter table public.widgets add column colour text", "psql");
    const rows = await ledgerRows(db.sql);
    expect(rows.filter((r) => r.object_identity?.startsWith("public.widgets")).map((r) => [r.command_tag, r.tracked_by, r.application_name])).toEqual([
      ["CREATE TABLE", [V3], "@effect/sql-pg"],
      ["ALTER TABLE", [], "psql"],
    ]);
    // drift_guard's own files, pushed as migrations, record none of their objects.
    expect(rows.filter((r) => r.schema_name === "drift_guard" || r.statement?.includes("drift_guard"))).toEqual([]);
  });
});

describe("installed by a role without superuser (plain Postgres: no event triggers for it)", () => {
  let db: TestDatabase;
  const role = `dg_owner_${process.pid}`;
  beforeAll(async () => {
    db = await createTestDatabase("ledger_nosuper");
    await db.sql.unsafe(`create role ${role} login password 'owner-pw' nosuperuser`);
    await db.sql.unsafe(`grant create on database "${db.name}" to ${role}; grant usage on schema auth to ${role}`);
  });
  afterAll(async () => {
    await db?.drop();
    const admin = postgres(databaseUrl("postgres"), { onnotice: () => {}, max: 1 });
    await admin.unsafe(`drop role if exists ${role}`).finally(() => admin.end());
  });

  it("installs everything else, says the ledger is inactive, and a superuser activates it later", async () => {
    const ownerUrl = databaseUrl(db.name, "owner-pw", role);
    const r = await runCli(["install", "--db-url", ownerUrl]);
    expect(r.status, r.stderr).toBe(0);
    const [{ s, superuser }] = await db.sql`select drift_guard.ledger_status() as s,
      (select rolsuper from pg_roles where rolname = ${role}) as superuser`;
    expect(superuser).toBe(false);
    expect(s).toMatchObject({ active: false });
    const listing = await runCli(["ledger", "--db-url", ownerUrl]);
    expect(listing.status, listing.stderr).toBe(0);
    expect(listing.stderr).toMatch(/event triggers are not installed or disabled/);

    await db.sql`select drift_guard.ledger_activate()`;
    await db.sql.unsafe("create table public.after_activation (id int)");
    const [{ n }] = await db.sql`select count(*)::int as n from drift_guard.ddl_ledger where object_identity = 'public.after_activation'`;
    expect(n).toBe(1);
  });
});
