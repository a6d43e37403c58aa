/**
 * drift_guard.apply_repair / undo_repair, called directly: guarded by the digest,
 * serialised by an advisory lock, atomic, audited, and exactly reversible.
 */
import postgres from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { historyDigest } from "../shared/checksum.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import {
  createHistoryTable,
  dbDigest,
  type HistoryRow,
  insertRows,
  installDirect,
  readRows,
  REPAIR_LOCK_KEY,
} from "./drift_guard_schema_helpers.ts";

const BASE: HistoryRow[] = [
  { version: "20240101000000", name: "init", statements: ["create table a (id int)"] },
  { version: "20240102000000", name: "second", statements: ["create table b (id int)", "select 1"] },
  { version: "20240103000000", name: "third", statements: null },
];

type Change = { op: "insert" | "update" | "delete"; version: string; name?: string | null; statements?: string[] | null };

interface RepairResult {
  audit_id: string;
  history_digest: string;
  digest_before: string;
}

async function apply(sql: postgres.Sql, expected: string, changes: Change[], reason = "ran by hand", actor: postgres.JSONValue = { user: "tester" }) {
  const [row] = await sql<{ r: RepairResult }[]>`
    select drift_guard.apply_repair(${expected}, ${sql.json(changes)}, ${reason}, ${sql.json(actor)},
                                    ${sql.json({ changes: changes.map(({ op, version, name }) => ({ op, version, name })) })}) as r`;
  return row.r;
}

async function undo(sql: postgres.Sql, auditId: string, reason = "that was wrong") {
  const [row] = await sql<{ r: { audit_id: string; history_digest: string } }[]>`
    select drift_guard.undo_repair(${auditId}::uuid, ${reason}, ${sql.json({ user: "tester" })}) as r`;
  return row.r;
}

async function auditCount(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from drift_guard.audit_log`;
  return row.n;
}

/** Runs fn and returns the Postgres error it raised. */
async function pgError(fn: () => Promise<unknown>): Promise<postgres.PostgresError> {
  try {
    await fn();
  } catch (err) {
    return err as postgres.PostgresError;
  }
  throw new Error("expected an error");
}

describe("apply_repair and undo_repair", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("repair_sql");
    await installDirect(db.sql);
  });
  afterAll(async () => db?.drop());
  beforeEach(async () => {
    await db.sql.unsafe("drop schema if exists supabase_migrations cascade");
    await createHistoryTable(db.sql);
    await insertRows(db.sql, BASE);
  });

  it("applies, audits, and undo restores the exact history", async () => {
    const before = await dbDigest(db.sql);
    expect(before).toBe(historyDigest(BASE));
    const auditsBefore = await auditCount(db.sql);

    const changes: Change[] = [
      { op: "insert", version: "20240104000000", name: "seed", statements: ["insert into a values (1)", ""] },
      { op: "update", version: "20240102000000", name: "second_renamed", statements: [] },
      { op: "delete", version: "20240103000000" },
    ];
    const result = await apply(db.sql, before, changes);
    expect(result.digest_before).toBe(before);
    expect(result.history_digest).not.toBe(before);
    expect(result.history_digest).toBe(await dbDigest(db.sql));

    const after = await readRows(db.sql);
    expect(after).toEqual([
      BASE[0],
      { version: "20240102000000", name: "second_renamed", statements: [] },
      { version: "20240104000000", name: "seed", statements: ["insert into a values (1)", ""] },
    ]);
    expect(historyDigest(after)).toBe(result.history_digest);

    const [audit] = await db.sql`select * from drift_guard.audit_log where id = ${result.audit_id}`;
    expect(audit.kind).toBe("repair");
    expect(audit.reason).toBe("ran by hand");
    expect(audit.actor).toEqual({ user: "tester" });
    expect(audit.digest_before).toBe(before);
    expect(audit.digest_after).toBe(result.history_digest);
    expect(audit.plan.changes.map((c: Change) => c.op)).toEqual(["insert", "update", "delete"]);
    expect(audit.rows_before).toEqual([
      { version: "20240104000000", row: null },
      { version: "20240102000000", row: BASE[1] },
      { version: "20240103000000", row: BASE[2] },
    ]);
    expect(audit.rows_after).toEqual([
      { version: "20240104000000", row: after[2] },
      { version: "20240102000000", row: after[1] },
      { version: "20240103000000", row: null },
    ]);
    expect(audit.undoes).toBeNull();
    expect(audit.undone_by).toBeNull();

    const undone = await undo(db.sql, result.audit_id);
    expect(undone.history_digest).toBe(before);
    expect(await dbDigest(db.sql)).toBe(before);
    expect(await readRows(db.sql)).toEqual(BASE);

    const [undoRow] = await db.sql`select * from drift_guard.audit_log where id = ${undone.audit_id}`;
    expect(undoRow.kind).toBe("undo");
    expect(undoRow.undoes).toBe(result.audit_id);
    expect(undoRow.digest_before).toBe(result.history_digest);
    expect(undoRow.digest_after).toBe(before);
    const [original] = await db.sql`select undone_by from drift_guard.audit_log where id = ${result.audit_id}`;
    expect(original.undone_by).toBe(undone.audit_id);
    expect(await auditCount(db.sql)).toBe(auditsBefore + 2);

    // Once only.
    const again = await pgError(() => undo(db.sql, result.audit_id));
    expect(again.code).toBe("DGI01");
    expect(again.message).toContain("already undone");
    // An undo is not itself undoable.
    const ofUndo = await pgError(() => undo(db.sql, undone.audit_id));
    expect(ofUndo.code).toBe("DGI01");
  });

  it("creates the history table when it is missing, and undo leaves an empty history", async () => {
    await db.sql.unsafe("drop schema supabase_migrations cascade");
    const before = await dbDigest(db.sql);
    const r = await apply(db.sql, before, [{ op: "insert", version: "20240101000000", name: "init", statements: ["select 1"] }]);
    expect(await readRows(db.sql)).toEqual([{ version: "20240101000000", name: "init", statements: ["select 1"] }]);
    const cols = await db.sql`select column_name, data_type, is_nullable from information_schema.columns
      where table_schema = 'supabase_migrations' and table_name = 'schema_migrations' order by ordinal_position`;
    expect(cols.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
      ["version", "text", "NO"],
      ["statements", "ARRAY", "YES"],
      ["name", "text", "YES"],
    ]);
    await undo(db.sql, r.audit_id);
    expect(await dbDigest(db.sql)).toBe(before);
  });

  it("a stale digest raises DGM01 naming the current digest, and changes nothing", async () => {
    const current = await dbDigest(db.sql);
    const audits = await auditCount(db.sql);
    const stale = historyDigest(BASE.slice(0, 2));
    const err = await pgError(() => apply(db.sql, stale, [{ op: "delete", version: "20240101000000" }]));
    expect(err.code).toBe("DGM01");
    expect(err.message).toContain(current);
    expect(await readRows(db.sql)).toEqual(BASE);
    expect(await auditCount(db.sql)).toBe(audits);
  });

  it("a change that does not fit the current rows raises DGM01 and rolls back the others", async () => {
    const current = await dbDigest(db.sql);
    const audits = await auditCount(db.sql);
    for (const bad of [
      { op: "insert", version: "20240101000000", name: "dup", statements: [] },
      { op: "update", version: "29990101000000", name: "ghost", statements: [] },
      { op: "delete", version: "29990101000000" },
    ] as Change[]) {
      const err = await pgError(() => apply(db.sql, current, [{ op: "delete", version: "20240102000000" }, bad]));
      expect(err.code, JSON.stringify(bad)).toBe("DGM01");
    }
    expect(await readRows(db.sql)).toEqual(BASE);
    expect(await auditCount(db.sql)).toBe(audits);
  });

  it("a blank reason raises DGI01 and changes nothing", async () => {
    const current = await dbDigest(db.sql);
    for (const reason of ["", "   ", "\n\t"]) {
      const err = await pgError(() => apply(db.sql, current, [{ op: "delete", version: "20240101000000" }], reason));
      expect(err.code).toBe("DGI01");
    }
    const nullReason = await pgError(() => db.sql`select drift_guard.apply_repair(${current}, '[{"op":"delete","version":"20240101000000"}]', null, '{}', '{}')`);
    expect(nullReason.code).toBe("DGI01");
    const undoBlank = await pgError(() => undo(db.sql, "00000000-0000-0000-0000-000000000000", " "));
    expect(undoBlank.code).toBe("DGI01");
    expect(await readRows(db.sql)).toEqual(BASE);
  });

  it("malformed change lists raise DGI01", async () => {
    const current = await dbDigest(db.sql);
    for (const changes of [
      [],
      [{ op: "upsert", version: "1" }],
      [{ op: "delete" }],
      [{ op: "delete", version: "" }],
      [{ op: "insert", version: "1", statements: "select 1" }],
      [{ op: "insert", version: "1", statements: [1] }],
      [{ op: "delete", version: "20240101000000" }, { op: "delete", version: "20240101000000" }],
    ]) {
      const err = await pgError(() => apply(db.sql, current, changes as Change[]));
      expect(err.code, JSON.stringify(changes)).toBe("DGI01");
    }
    expect(await readRows(db.sql)).toEqual(BASE);
  });

  it("an unknown audit id raises DGN01", async () => {
    const err = await pgError(() => undo(db.sql, "00000000-0000-0000-0000-000000000000"));
    expect(err.code).toBe("DGN01");
  });

  it("undo after the history changed raises DGM01", async () => {
    const r = await apply(db.sql, await dbDigest(db.sql), [{ op: "delete", version: "20240103000000" }]);
    await db.sql`update supabase_migrations.schema_migrations set name = 'touched' where version = '20240101000000'`;
    const err = await pgError(() => undo(db.sql, r.audit_id));
    expect(err.code).toBe("DGM01");
    expect(err.message).toContain(r.history_digest);
    const [orig] = await db.sql`select undone_by from drift_guard.audit_log where id = ${r.audit_id}`;
    expect(orig.undone_by).toBeNull();
  });

  it("another session holding the lock: DGL01 naming its application_name, nothing changed", async () => {
    const holder = postgres(db.url, { max: 1, onnotice: () => {}, connection: { application_name: "dg-test-lock-holder" } });
    try {
      await holder.unsafe(`select pg_advisory_lock(${REPAIR_LOCK_KEY}::bigint)`);
      const audits = await auditCount(db.sql);
      const current = await dbDigest(db.sql);
      const err = await pgError(() => apply(db.sql, current, [{ op: "delete", version: "20240101000000" }]));
      expect(err.code).toBe("DGL01");
      expect(err.message).toContain("dg-test-lock-holder");
      // Any session may set application_name: the message says it is only what the session claims.
      expect(err.message).toContain('application_name claims "dg-test-lock-holder"');
      expect(err.message).toMatch(/connected since \d{4}-\d\d-\d\d/);
      const undoErr = await pgError(() => undo(db.sql, "00000000-0000-0000-0000-000000000000"));
      expect(undoErr.code).toBe("DGL01");
      expect(await readRows(db.sql)).toEqual(BASE);
      expect(await auditCount(db.sql)).toBe(audits);

      await holder.unsafe(`select pg_advisory_unlock(${REPAIR_LOCK_KEY}::bigint)`);
      const ok = await apply(db.sql, current, [{ op: "delete", version: "20240101000000" }]);
      expect(ok.history_digest).toBe(historyDigest(BASE.slice(1)));
    } finally {
      await holder.end({ timeout: 1 });
    }
  });

  it("the lock is transaction-scoped: released when apply_repair's transaction ends", async () => {
    await apply(db.sql, await dbDigest(db.sql), [{ op: "delete", version: "20240101000000" }]);
    const held = await db.sql`select 1 from pg_locks where locktype = 'advisory' and objid = (${REPAIR_LOCK_KEY}::bigint & 4294967295)::oid`;
    expect(held).toHaveLength(0);
  });

  it("a connection killed mid-apply leaves the history as it was and no audit row", async () => {
    const before = await dbDigest(db.sql);
    const audits = await auditCount(db.sql);
    const blocker = await db.sql.reserve();
    const victim = postgres(db.url, { max: 1, onnotice: () => {}, connection: { application_name: "dg-test-victim" } });
    try {
      // Hold a row lock the repair will need, after it has already inserted a row.
      await blocker`begin`;
      await blocker`select 1 from supabase_migrations.schema_migrations where version = '20240102000000' for update`;
      const pending = apply(victim, before, [
        { op: "insert", version: "20240105000000", name: "written_before_the_kill", statements: ["select 1"] },
        { op: "update", version: "20240102000000", name: "never", statements: [] },
      ]).then(() => "applied", (err) => err as Error);

      // Poll until the repair blocks, however slow the machine: no attempt limit (the test timeout is the backstop).
      let settled = false;
      pending.then(() => (settled = true));
      let pid: number | undefined;
      while (pid === undefined && !settled) {
        const rows = await db.sql<{ pid: number }[]>`
          select pid from pg_stat_activity
          where application_name = 'dg-test-victim' and wait_event_type = 'Lock' and datname = current_database()`;
        pid = rows[0]?.pid;
        if (pid === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      expect(pid, "the repair never blocked on the row lock").toBeDefined();
      // The repair holds the advisory lock while it waits.
      const [lockHolder] = await db.sql`select pid from pg_locks where locktype = 'advisory' and granted
        and objid = (${REPAIR_LOCK_KEY}::bigint & 4294967295)::oid`;
      expect(lockHolder.pid).toBe(pid);

      const [killed] = await db.sql`select pg_terminate_backend(${pid!}) as ok`;
      expect(killed.ok).toBe(true);
      const outcome = await pending;
      expect(outcome).toBeInstanceOf(Error);
      await blocker`rollback`;
    } finally {
      blocker.release();
      await victim.end({ timeout: 1 });
    }

    expect(await readRows(db.sql)).toEqual(BASE);
    expect(await dbDigest(db.sql)).toBe(before);
    expect(await auditCount(db.sql)).toBe(audits);
    // And the lock died with the session: the next repair goes through.
    const ok = await apply(db.sql, before, [{ op: "delete", version: "20240103000000" }]);
    expect(ok.history_digest).toBe(historyDigest(BASE.slice(0, 2)));
  });

  it("the audit log is append-only", async () => {
    const r = await apply(db.sql, await dbDigest(db.sql), [{ op: "delete", version: "20240103000000" }]);
    for (const stmt of [
      `update drift_guard.audit_log set reason = 'rewritten' where id = '${r.audit_id}'`,
      `delete from drift_guard.audit_log where id = '${r.audit_id}'`,
      `truncate drift_guard.audit_log cascade`,
    ]) {
      const err = await pgError(() => db.sql.unsafe(stmt));
      expect(err.code, stmt).toBe("DGA01");
    }
    const [row] = await db.sql`select reason from drift_guard.audit_log where id = ${r.audit_id}`;
    expect(row.reason).toBe("ran by hand");
  });
});
