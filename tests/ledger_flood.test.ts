/**
 * A flood of cheap DDL by a role with CREATE on one schema can neither erase the ledger nor
 * stall anyone: pruning keeps every untracked, unacknowledged entry however many come after
 * it (and check then warns that the ledger is past its retention, with the count), and a
 * prune held open in a long transaction makes no other role's DDL wait.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ledgerRetention, readLedger } from "../db/ledger.ts";
import { driftReport } from "../db/report.ts";
import { createTestDatabase, databaseUrl, type TestDatabase } from "./harness/database.ts";
import { createHistoryTable, runCli } from "./drift_guard_schema_helpers.ts";

const FLOODER = `dg_flooder_${process.pid}`;
const PASSWORD = "flooder-password";
/** The cap for this test, so that a flood of thousands stands for the issue's 110,000 against 100,000. */
const RETENTION_ROWS = 200;
const FLOOD_PAIRS = 1500;

describe("a DDL flood against the ledger", () => {
  let db: TestDatabase;
  let flooder: postgres.Sql;

  beforeAll(async () => {
    db = await createTestDatabase("ledger_flood");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
    await createHistoryTable(db.sql);
    await db.sql.unsafe(`drop role if exists ${FLOODER}`);
    await db.sql.unsafe(`create role ${FLOODER} login nocreaterole nobypassrls password '${PASSWORD}'`);
    await db.sql.unsafe(`create schema flood_space`);
    await db.sql.unsafe(`grant usage, create on schema flood_space to ${FLOODER}`);
    flooder = postgres(databaseUrl(db.name, PASSWORD, FLOODER), { onnotice: () => {}, max: 1 });
  });
  afterAll(async () => {
    await flooder?.end({ timeout: 1 });
    if (db) {
      await db.drop();
      const admin = postgres(databaseUrl("postgres"), { onnotice: () => {}, max: 1 });
      try {
        await admin.unsafe(`drop role if exists ${FLOODER}`);
      } finally {
        await admin.end();
      }
    }
  });

  const idOf = async (identity: string) => (await readLedger(db.sql, { object: identity })).find((e) => e.object_identity === identity)!.id;
  const ack = (id: string) => db.sql`select drift_guard.ledger_ack(${`{${id}}`}::bigint[], 'reviewed', '{"user":"test"}'::jsonb)`;
  const exists = async (id: string) => (await db.sql`select exists (select 1 from drift_guard.ddl_ledger where id = ${id}) as e`)[0].e as boolean;
  const errors = async () => Number((await db.sql`select drift_guard.ledger_status() ->> 'errors' as n`)[0].n ?? 0);

  it("keeps the real change and every flooded entry; check warns that the ledger is past its retention, with the count", async () => {
    await db.sql.unsafe("create table public.the_real_change (id int)");
    const real = await idOf("public.the_real_change");
    await db.sql.unsafe("create table public.reviewed_change (id int)");
    const reviewed = await idOf("public.reviewed_change");
    await ack(reviewed);
    await db.sql.unsafe(`update drift_guard.ledger_settings set retention_rows = ${RETENTION_ROWS}`);
    const errorsBefore = await errors();
    // The flood: every statement fires the ledger's trigger, which prunes about once per 1,000.
    await flooder.unsafe(`do $$ begin for i in 1..${FLOOD_PAIRS} loop
      execute pg_catalog.format('create table flood_space.f%s (id pg_catalog.int4)', i);
      execute pg_catalog.format('drop table flood_space.f%s', i);
    end loop; end $$`);
    // And one prune for certain, as the owner.
    await db.sql`select drift_guard.ledger_prune()`;
    expect(await exists(real), "the untracked change before the flood").toBe(true);
    expect(await exists(reviewed), "an acknowledged entry past retention may go").toBe(false);
    const [{ flooded }] = await db.sql<{ flooded: number }[]>`select count(*)::int as flooded from drift_guard.ddl_ledger where session_user_name = ${FLOODER}`;
    expect(flooded).toBeGreaterThanOrEqual(2 * FLOOD_PAIRS);
    expect(await errors()).toBe(errorsBefore);

    const retention = await ledgerRetention(db.sql);
    expect(retention).toMatchObject({ retention_rows: RETENTION_ROWS });
    expect(retention!.entries).toBeGreaterThan(2 * FLOOD_PAIRS);
    // Every entry past the cap is one nobody reviewed, which pruning keeps.
    expect(retention!.kept_past_retention).toBe(retention!.entries! - RETENTION_ROWS);

    const report = await driftReport(db.sql, [], [], { evidence: false });
    const warning = report.problems.find((p) => p.message.startsWith("the DDL ledger keeps"));
    expect(warning).toMatchObject({ level: "warning" });
    expect(warning!.message).toContain(`keeps ${retention!.kept_past_retention} untracked, unacknowledged entries past its retention`);
    expect(warning!.message).toContain(`retention_rows ${RETENTION_ROWS}`);
    expect(warning!.message).toContain(`${retention!.entries} entries in all`);
  });

  it("within its retention, check has no such warning", async () => {
    await db.sql.unsafe("update drift_guard.ledger_settings set retention_rows = 100000");
    expect((await ledgerRetention(db.sql))!.kept_past_retention).toBe(0);
    const report = await driftReport(db.sql, [], [], { evidence: false });
    expect(report.problems.filter((p) => p.message.startsWith("the DDL ledger keeps"))).toEqual([]);
  });

  it("another role's DDL, pruning on its way, never waits for a prune held open in a long transaction", async () => {
    await db.sql.unsafe("update drift_guard.ledger_settings set retention_rows = 5");
    try {
      await db.sql.unsafe("create table public.held_by_the_long_transaction (id int)");
      const held = await idOf("public.held_by_the_long_transaction");
      await ack(held);
      for (let i = 0; i < 6; i++) await db.sql.unsafe(`create table public.pad_${i} (id int)`);
      const holder = await db.sql.reserve();
      try {
        await holder.unsafe("begin");
        await holder.unsafe("select drift_guard.ledger_prune()");
        const [{ gone }] = await holder.unsafe<{ gone: boolean }[]>(`select not exists (select 1 from drift_guard.ddl_ledger where id = ${held}) as gone`);
        expect(gone, "the long transaction pruned the entry, and holds its row lock").toBe(true);
        // Resolved and past retention, but not locked by anyone: the flooder's prune takes it.
        await db.sql.unsafe("create table public.free_to_prune (id int)");
        const free = await idOf("public.free_to_prune");
        await ack(free);
        const errorsBefore = await errors();

        // The flooder's DDL prunes at a statement known in advance: random() is per session,
        // and setseed makes its sequence the same again.
        await flooder.unsafe("set statement_timeout = '60s'");
        for (let i = 0; i < 6; i++) await flooder.unsafe(`create table flood_space.pad_${i} (id pg_catalog.int4)`);
        await flooder.unsafe("select pg_catalog.setseed(0.25)");
        const [{ n }] = await flooder.unsafe<{ n: number }[]>(
          "select i as n from pg_catalog.generate_series(1, 100000) i where pg_catalog.random() < 0.001 limit 1");
        expect(n).toBeGreaterThan(0);
        await flooder.unsafe("select pg_catalog.setseed(0.25)");
        // A wait for the holder's locks would last until the statement timeout cancels it (the
        // holder never lets go before this returns), and a lock error inside the trigger would count.
        await flooder.unsafe(`do $$ begin for i in 1..${n} loop
          execute pg_catalog.format('create table flood_space.w%s (id pg_catalog.int4)', i);
        end loop; end $$`);
        expect(await exists(free), "the flooder's DDL ran a prune").toBe(false);
        expect(await exists(held), "the held row is still the long transaction's").toBe(true);
        expect(await errors()).toBe(errorsBefore);
        await holder.unsafe("rollback");
      } finally {
        holder.release();
      }
    } finally {
      await db.sql.unsafe("update drift_guard.ledger_settings set retention_rows = 100000");
    }
  });
});
