/**
 * The DDL ledger tells the truth, whoever tries otherwise: a deleted history row tracks
 * nothing, a comment cannot hide a GRANT, pruning keeps what nobody reviewed and waits for
 * no one, an acknowledgement or an alert mark comes only from its function, and the API
 * roles write nothing in drift_guard directly.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLedger } from "../db/ledger.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { createHistoryTable, dbDigest, runCli } from "./drift_guard_schema_helpers.ts";

/** The SQLSTATE `query` fails with as `role` (in a rolled-back transaction), or null. */
async function errorAs(sql: postgres.Sql, role: string | null, query: string): Promise<string | null> {
  const rollback = new Error("rollback");
  try {
    await sql.begin(async (tx) => {
      if (role) await tx.unsafe(`set local role ${role}`);
      await tx.unsafe(query);
      throw rollback;
    });
  } catch (err) {
    if (err === rollback) return null;
    return (err as { code?: string }).code ?? "unknown";
  }
  return null;
}

describe("the DDL ledger tells the truth", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase("ledger_truth");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
    await createHistoryTable(db.sql);
  });
  afterAll(async () => db?.drop());

  const entry = async (identity: string) => (await readLedger(db.sql, { object: identity })).filter((e) => e.object_identity === identity);

  it("a history row inserted and deleted in the DDL's own transaction tracks nothing", async () => {
    await db.sql.begin(async (tx) => {
      await tx.unsafe("create table public.laundered (id int)");
      await tx.unsafe("insert into supabase_migrations.schema_migrations (version, name) values ('20990101000000', 'laundry')");
      await tx.unsafe("delete from supabase_migrations.schema_migrations where version = '20990101000000'");
    });
    const [e] = await entry("public.laundered");
    expect(e).toMatchObject({ status: "untracked", tracked_by: [] });
  });

  it("a history row deleted later no longer tracks the DDL it came with", async () => {
    await db.sql.begin(async (tx) => {
      await tx.unsafe("create table public.tracked_then_deleted (id int)");
      await tx.unsafe("insert into supabase_migrations.schema_migrations (version, name) values ('20990101000001', 'real')");
    });
    expect((await entry("public.tracked_then_deleted"))[0]).toMatchObject({ status: "tracked", tracked_by: ["20990101000001"] });
    await db.sql.unsafe("delete from supabase_migrations.schema_migrations where version = '20990101000001'");
    expect((await entry("public.tracked_then_deleted"))[0]).toMatchObject({ status: "untracked", tracked_by: [] });
  });

  it("a GRANT whose text mentions drift_guard is recorded like any other", async () => {
    await db.sql.unsafe("create table public.granted (id int)");
    const before = await db.sql<{ n: number }[]>`select count(*)::int as n from drift_guard.ddl_ledger where command_tag = 'GRANT'`;
    await db.sql.unsafe("grant select on public.granted to service_role /* DRIFT_GUARD install */");
    await db.sql.unsafe("revoke select on public.granted from service_role -- drift_guard");
    const after = await db.sql<{ n: number }[]>`select count(*)::int as n from drift_guard.ddl_ledger where command_tag in ('GRANT', 'REVOKE')`;
    expect(after[0].n).toBe(before[0].n + 2);
  });

  it("setting drift_guard.installing hides nothing for a role that does not own the schema", async () => {
    await db.sql.unsafe("create table public.hidden_try (id int)");
    await db.sql.unsafe("drop role if exists dg_truth_ops");
    await db.sql.unsafe("create role dg_truth_ops nologin");
    // Where postgres is not a superuser (hosted), it sets only a role it is a member of; and the
    // role grants what it holds with grant option (a table in public it could not be given).
    await db.sql.unsafe("grant dg_truth_ops to current_user");
    await db.sql.unsafe("grant select on public.hidden_try to dg_truth_ops with grant option");
    await db.sql.begin(async (tx) => {
      await tx.unsafe("set local role dg_truth_ops");
      await tx.unsafe("grant select on public.hidden_try to service_role");
    });
    const [{ n: before }] = await db.sql<{ n: number }[]>`select count(*)::int as n from drift_guard.ddl_ledger where command_tag = 'REVOKE'`;
    await db.sql.begin(async (tx) => {
      await tx.unsafe("set local role dg_truth_ops");
      await tx.unsafe("select pg_catalog.set_config('drift_guard.installing', 'on', true)");
      await tx.unsafe("revoke select on public.hidden_try from service_role");
    });
    const [{ n: after }] = await db.sql<{ n: number }[]>`select count(*)::int as n from drift_guard.ddl_ledger where command_tag = 'REVOKE'`;
    expect(after).toBe(before + 1);
    await db.sql.unsafe("drop table public.hidden_try");
    await db.sql.unsafe("drop role dg_truth_ops");
  });

  it("drift-guard's own install records none of its GRANTs and REVOKEs", async () => {
    const [{ n: before }] = await db.sql<{ n: number }[]>`select count(*)::int as n from drift_guard.ddl_ledger`;
    // A changed checksum makes install run every file again, privileges file included.
    await db.sql.unsafe("update drift_guard.schema_version set checksum = null");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
    const [{ n: after }] = await db.sql<{ n: number }[]>`select count(*)::int as n from drift_guard.ddl_ledger`;
    expect(after).toBe(before);
  });

  it("pruning never drops an untracked, unacknowledged entry, however many come after it", async () => {
    await db.sql.unsafe("create table public.the_real_change (id int)");
    const [real] = await entry("public.the_real_change");
    // Also one resolved (acknowledged) entry, which retention may drop.
    await db.sql.unsafe("create table public.reviewed_change (id int)");
    const [reviewed] = await entry("public.reviewed_change");
    await db.sql`select drift_guard.ledger_ack(${`{${reviewed.id}}`}::bigint[], 'reviewed', '{"user":"test"}'::jsonb)`;
    await db.sql.unsafe("update drift_guard.ledger_settings set retention_rows = 100");
    try {
      // A flood of cheap DDL: 300 entries after the real one.
      await db.sql.unsafe(`do $$ begin for i in 1..150 loop execute 'create table public.flood_' || i || ' (id int)'; execute 'drop table public.flood_' || i; end loop; end $$`);
      await db.sql`select drift_guard.ledger_prune()`;
      const ids = (await db.sql<{ id: string }[]>`select id::text from drift_guard.ddl_ledger where id in (${real.id}, ${reviewed.id})`).map((r) => r.id);
      expect(ids).toEqual([real.id]);
    } finally {
      await db.sql.unsafe("update drift_guard.ledger_settings set retention_rows = 100000");
    }
  });

  it("pruning skips rows another transaction holds instead of waiting for it", async () => {
    await db.sql.unsafe("create table public.held (id int)");
    const [held] = await entry("public.held");
    await db.sql`select drift_guard.ledger_ack(${`{${held.id}}`}::bigint[], 'reviewed', '{"user":"test"}'::jsonb)`;
    // Newer entries, so that the held one is past retention_rows.
    await db.sql.unsafe("create table public.after_held (id int)");
    await db.sql.unsafe("update drift_guard.ledger_settings set retention_rows = 1");
    const holder = postgres(db.url, { onnotice: () => {}, max: 1 });
    const pruner = postgres(db.url, { onnotice: () => {}, max: 1 });
    try {
      const reserved = await holder.reserve();
      try {
        await reserved.unsafe("begin");
        await reserved.unsafe(`select id from drift_guard.ddl_ledger where id = ${held.id} for update`);
        // lock_timeout turns any wait into an error: a prune that waited would fail here.
        const result = await pruner.begin(async (tx) => {
          await tx.unsafe("set local lock_timeout = '2s'");
          return await tx.unsafe<{ n: string }[]>("select drift_guard.ledger_prune()::text as n");
        });
        expect(Number(result[0].n)).toBeGreaterThanOrEqual(0);
        const [{ still }] = await db.sql`select exists (select 1 from drift_guard.ddl_ledger where id = ${held.id}) as still`;
        expect(still).toBe(true);
        await reserved.unsafe("rollback");
      } finally {
        reserved.release();
      }
    } finally {
      await holder.end({ timeout: 1 });
      await pruner.end({ timeout: 1 });
      await db.sql.unsafe("update drift_guard.ledger_settings set retention_rows = 100000");
    }
  });

  it("an acknowledgement is only an ack audit entry that names the entry, even for the owner", async () => {
    await db.sql.unsafe("create table public.ack_target (id int)");
    await db.sql.unsafe("create table public.other_target (id int)");
    const [target] = await entry("public.ack_target");
    const [other] = await entry("public.other_target");
    const [{ r }] = await db.sql`select drift_guard.ledger_ack(${`{${other.id}}`}::bigint[], 'the other one', '{"user":"test"}'::jsonb) as r`;
    // An ack of another entry, or a repair, cannot be pointed at this one.
    expect(await errorAs(db.sql, null, `update drift_guard.ddl_ledger set acked_audit_id = '${r.audit_id}' where id = ${target.id}`)).toBe("23503");
    const [{ d }] = await db.sql`select drift_guard.history_digest() as d`;
    const [{ repair }] = await db.sql`select drift_guard.apply_repair(${d}, '[{"op":"insert","version":"1","name":"a","statements":[]}]'::jsonb,
                                       'seed', '{"user":"test"}'::jsonb, '{"changes":[]}'::jsonb) ->> 'audit_id' as repair`;
    expect(await errorAs(db.sql, null, `update drift_guard.ddl_ledger set acked_audit_id = '${repair}' where id = ${target.id}`)).toBe("23503");
    // Nor can an acknowledgement be moved to another ack once made.
    const [{ r: own }] = await db.sql`select drift_guard.ledger_ack(${`{${target.id}}`}::bigint[], 'this one', '{"user":"test"}'::jsonb) as r`;
    expect(own.acknowledged).toBe(1);
    expect(await errorAs(db.sql, null, `update drift_guard.ddl_ledger set acked_audit_id = null where id = ${target.id}`)).toBe("23503");
    expect(await dbDigest(db.sql)).toMatch(/^sha256:/);
  });

  it("alerted_at is set only by drift_guard.ledger_mark_alerted, even for the owner", async () => {
    await db.sql.unsafe("create table public.alert_target (id int)");
    const [target] = await entry("public.alert_target");
    expect(await errorAs(db.sql, null, `update drift_guard.ddl_ledger set alerted_at = now() where id = ${target.id}`)).toBe("DGA01");
    const [{ n }] = await db.sql`select drift_guard.ledger_mark_alerted(${`{${target.id}}`}::bigint[]) as n`;
    expect(Number(n)).toBe(1);
    // The function's permission ends with its own UPDATE.
    expect(await errorAs(db.sql, null, `select drift_guard.ledger_mark_alerted('{}'::bigint[]); update drift_guard.ddl_ledger set alerted_at = null where id = ${target.id}`)).toBe("DGA01");
  });

  it("service_role writes nothing in drift_guard directly: no ledger, token or audit write", async () => {
    const [{ id }] = await db.sql`select id::text from drift_guard.ddl_ledger order by id limit 1`;
    const attempts = [
      `update drift_guard.ddl_ledger set acked_audit_id = null where id = ${id}`,
      `update drift_guard.ddl_ledger set alerted_at = now() where id = ${id}`,
      "delete from drift_guard.ddl_ledger",
      `insert into drift_guard.tokens (label, scope, public_id, secret_hash) values ('forged', 'repair', 'bbbbbbbbbbbb', '${"b".repeat(64)}')`,
      "update drift_guard.tokens set scope = 'repair'",
      "update drift_guard.ledger_settings set retention_rows = 1",
      "update drift_guard.ledger_health set errors = 0",
      "insert into drift_guard.history_writes (txid, op, version, session_user_name) values (1, 'insert', '1', 'x')",
      "select drift_guard.ledger_ack('{1}', 'r', '{}')",
      "select drift_guard.ledger_mark_alerted('{1}')",
      "select drift_guard.ledger_claim_alert('{1}', 1000)",
      "select drift_guard.create_token('forged', 'repair', 'cccccccccccc', '" + "c".repeat(64) + "')",
      "select drift_guard.ledger_prune()",
    ];
    for (const query of attempts) expect(await errorAs(db.sql, "service_role", query), query).toBe("42501");
  });

  it("ledger_link escapes LIKE's _ and %: linking user_roles leaves userxroles' policy alone", async () => {
    await db.sql.unsafe("create table public.user_roles (id int)");
    await db.sql.unsafe("create table public.userxroles (id int)");
    await db.sql.unsafe("alter table public.userxroles enable row level security");
    await db.sql.unsafe("create policy p_userx on public.userxroles for select using (true)");
    const [{ d }] = await db.sql`select drift_guard.history_digest() as d`;
    const [{ audit }] = await db.sql`select drift_guard.apply_repair(${d}, '[{"op":"insert","version":"2","name":"roles","statements":[]}]'::jsonb,
                                      'mark roles applied', '{"user":"test"}'::jsonb, '{"changes":[]}'::jsonb) ->> 'audit_id' as audit`;
    await db.sql`select drift_guard.ledger_link(${audit}::uuid, '[{"version":"2","objects":[{"kind":"table","schema":"public","name":"user_roles"}]}]'::jsonb)`;
    expect((await entry("public.user_roles"))[0].status).toBe("linked");
    expect((await entry("p_userx on public.userxroles"))[0].status).toBe("untracked");
  });
});
