/**
 * The real CLI under database faults: every failure ends in the contract's exit
 * code with a message naming the cause, never a stack trace or exit 1 (drift).
 * A statement timeout is made deterministic by holding a lock from the test, so
 * the CLI's query waits on it until the timeout fires, however fast the machine.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INSTALL_LOCK_KEY } from "../db/install.ts";
import { EXIT, OUTCOMES } from "../shared/types.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { driftGuard, driftGuardAsync, startDriftGuard } from "./harness/drift_guard_cli.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const A = "20240101000000";

function expectCleanFailure(r: { status: number; stdout: string; stderr: string }, exit: number, says: RegExp) {
  expect(r.status, r.stderr).toBe(exit);
  expect(r.stderr).toMatch(says);
  expect(r.stderr).not.toMatch(/PostgresError|\n\s+at \S|node:internal|Node\.js v/);
}

/** Waits (by polling the catalog, not the clock) until a backend of `app` waits on a lock; fails if the CLI exits first. */
/**
 * Starts the CLI and waits until its own connection waits on a lock. The backends of CLIs an
 * earlier test killed can still be running the statements they were sent, and wait on this
 * test's lock too: they are told apart by pid, taken before the CLI starts.
 */
async function startBlocked<T extends { result: Promise<{ status: number; stderr: string }> }>(sql: postgres.Sql, app: string, start: () => T): Promise<T> {
  const before = (await sql`select pid from pg_stat_activity where application_name = ${app}`).map((r) => r.pid as number);
  const cli = start();
  let exited: { status: number; stderr: string } | undefined;
  cli.result.then((r) => (exited = r));
  for (;;) {
    const [row] = await sql`select count(*)::int as n from pg_stat_activity
      where application_name = ${app} and wait_event_type = 'Lock' and pid <> all(${before}::int[])`;
    if (row.n > 0) return cli;
    if (exited) throw new Error(`the CLI exited (${exited.status}) before it blocked: ${exited.stderr}`);
    await sql`select pg_sleep(0.05)`;
  }
}

describe("statement timeouts and bad input through the real CLI", () => {
  let db: TestDatabase;
  let project: string;
  let holder: postgres.Sql;
  let slowUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase("cli_faults");
    project = makeProject({ [`${A}_a.sql`]: "create table public.a (id int);" });
    supabasePush(db.url, project);
    expect(driftGuard(["install", "--db-url", db.url]).status).toBe(0);
    holder = postgres(db.url, { onnotice: () => {}, max: 2 });
    // Lock waits count toward statement_timeout, so a held lock makes the timeout certain.
    slowUrl = `${db.url}?options=${encodeURIComponent("-c statement_timeout=300")}`;
  });
  afterAll(async () => {
    await holder?.end({ timeout: 1 });
    await db?.drop();
  });

  /** Runs the CLI while the test holds `lock` in an open transaction. */
  async function whileLocked(lock: string, args: string[]) {
    const reserved = await holder.reserve();
    try {
      await reserved.unsafe("begin");
      await reserved.unsafe(lock);
      return await driftGuardAsync(args, { cwd: project });
    } finally {
      await reserved.unsafe("rollback").catch(() => {});
      reserved.release();
    }
  }

  const timeout = /statement timeout/;

  it("check: exit 3 naming the statement timeout, not exit 1", async () => {
    const r = await whileLocked("lock table supabase_migrations.schema_migrations in access exclusive mode", ["check", "--db-url", slowUrl]);
    expectCleanFailure(r, 3, timeout);
  });

  it("repair (plan): exit 3 naming the statement timeout", async () => {
    const r = await whileLocked("lock table supabase_migrations.schema_migrations in access exclusive mode",
      ["repair", "--db-url", slowUrl, "--mark-reverted", A, "--reason", "test"]);
    expectCleanFailure(r, 3, timeout);
  });

  it("audit: exit 3 naming the statement timeout", async () => {
    const r = await whileLocked("lock table drift_guard.audit_log in access exclusive mode", ["audit", "--db-url", slowUrl]);
    expectCleanFailure(r, 3, timeout);
  });

  it("install: exit 3 naming the statement timeout", async () => {
    const r = await whileLocked(`select pg_advisory_xact_lock(${INSTALL_LOCK_KEY}::bigint)`, ["install", "--db-url", slowUrl]);
    expectCleanFailure(r, 3, timeout);
  });

  it("token create: exit 3 naming the statement timeout", async () => {
    const r = await whileLocked("lock table drift_guard.tokens in access exclusive mode",
      ["token", "create", "--db-url", slowUrl, "--scope", "read", "--label", "slow"]);
    expectCleanFailure(r, 3, timeout);
  });

  it("a 1 ms statement_timeout never ends in a stack trace or exit 1 (postgres.js's unawaited type query)", async () => {
    const url = `${db.url}?options=${encodeURIComponent("-c statement_timeout=1")}`;
    for (const args of [["install"], ["audit"], ["check"], ["token", "list"]]) {
      for (let i = 0; i < 3; i++) {
        const r = await driftGuardAsync([...args, "--db-url", url], { cwd: project });
        // Fast enough to finish: 0 (in sync). Otherwise: 3, naming the timeout.
        if (r.status !== 0) expectCleanFailure(r, 3, timeout);
      }
    }
  });

  it("undo: a malformed audit id is exit 2 before any SQL (36 dashes, 32 hex digits without dashes)", () => {
    for (const id of ["-".repeat(36), "0123456789abcdef0123456789abcdef"]) {
      const r = driftGuard(["undo", "--db-url", db.url, "--audit-id", id, "--reason", "test"], { cwd: project });
      expectCleanFailure(r, 2, /is not an audit id/);
    }
  });

  it.each(["SIGTERM", "SIGINT"] as const)("%s during repair --apply: says the repair may have committed and to run drift-guard audit; exit 3", async (signal) => {
    const plan = driftGuard(["repair", "--db-url", db.url, "--mark-reverted", A, "--reason", "interrupt test", "--format", "json"], { cwd: project });
    expect(plan.status, plan.stderr).toBe(0);
    const digest = JSON.parse(plan.stdout).plan_digest;
    const [{ n: auditBefore }] = await holder`select count(*)::int as n from drift_guard.audit_log`;
    const reserved = await holder.reserve();
    let cli: ReturnType<typeof startDriftGuard> | undefined;
    try {
      // The apply blocks on its audit insert until the test lets go: deterministic, not timed.
      await reserved.unsafe("begin");
      await reserved.unsafe("lock table drift_guard.audit_log in access exclusive mode");
      cli = await startBlocked(holder, "drift-guard cli", () => startDriftGuard(["repair", "--db-url", db.url, "--mark-reverted", A, "--reason", "interrupt test", "--apply", "--expect-digest", digest], { cwd: project }));
      cli.kill(signal);
      const r = await cli.result;
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/interrupted .*may have committed/);
      expect(r.stderr).toContain("drift-guard audit");
    } finally {
      await reserved.unsafe("rollback").catch(() => {});
      reserved.release();
    }
    // The repair and its ledger links run in one client-side transaction: the server finishes the
    // blocked statement without its client, but the COMMIT never comes, so nothing changed. (A kill
    // while COMMIT is in flight could still commit: hence "may have committed" in the warning.)
    for (;;) {
      const [{ n }] = await holder`select count(*)::int as n from pg_stat_activity where application_name = 'drift-guard cli'`;
      if (n === 0) break;
      await holder`select pg_sleep(0.05)`;
    }
    const [{ n: auditAfter }] = await holder`select count(*)::int as n from drift_guard.audit_log`;
    expect(auditAfter).toBe(auditBefore);
    const [{ n: stillThere }] = await holder`select count(*)::int as n from supabase_migrations.schema_migrations where version = ${A}`;
    expect(stillThere).toBe(1);
  });

  it("SIGTERM during undo: says the undo may have committed; exit 3", async () => {
    const plan = driftGuard(["repair", "--db-url", db.url, "--mark-reverted", A, "--reason", "to undo", "--format", "json"], { cwd: project });
    const digest = JSON.parse(plan.stdout).plan_digest;
    const applied = driftGuard(["repair", "--db-url", db.url, "--mark-reverted", A, "--reason", "to undo", "--apply", "--expect-digest", digest, "--format", "json"], { cwd: project });
    expect(applied.status, applied.stderr).toBe(0);
    const auditId = JSON.parse(applied.stdout).audit_id;
    const reserved = await holder.reserve();
    try {
      await reserved.unsafe("begin");
      await reserved.unsafe("lock table drift_guard.audit_log in access exclusive mode");
      const cli = await startBlocked(holder, "drift-guard cli", () => startDriftGuard(["undo", "--db-url", db.url, "--audit-id", auditId, "--reason", "interrupted undo"], { cwd: project }));
      cli.kill("SIGTERM");
      const r = await cli.result;
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/interrupted .*undo may have committed/);
      expect(r.stderr).toContain("drift-guard audit");
    } finally {
      await reserved.unsafe("rollback").catch(() => {});
      reserved.release();
    }
  });

  it.each(["SIGHUP", "SIGTERM"] as const)("%s during a read (audit): exit 3, the table's interrupted outcome, never a death by signal", async (signal) => {
    const reserved = await holder.reserve();
    try {
      await reserved.unsafe("begin");
      await reserved.unsafe("lock table drift_guard.audit_log in access exclusive mode");
      const cli = await startBlocked(holder, "drift-guard cli", () => startDriftGuard(["audit", "--db-url", db.url], { cwd: project }));
      cli.kill(signal);
      const r = await cli.result;
      expect(r.status, r.stderr).toBe(OUTCOMES.interrupted.exit);
      expect(r.status).not.toBe(EXIT.drift);
    } finally {
      await reserved.unsafe("rollback").catch(() => {});
      reserved.release();
    }
  });
});

describe("a migration file that is not valid UTF-8, pushed by the real Supabase CLI", () => {
  let db: TestDatabase;
  afterAll(async () => {
    await db?.drop();
  });

  it("is read as the CLI read it (U+FFFD), paired with its history row, and warned about: in sync, exit 0", async () => {
    db = await createTestDatabase("cli_utf8");
    const bytes = Buffer.concat([Buffer.from("create table public.u (id int); -- caf"), Buffer.from([0xe9, 0x20, 0xff, 0xfe]), Buffer.from(" end\n")]);
    const project = makeProject({ [`${A}_latin1.sql`]: bytes });
    supabasePush(db.url, project);
    const [row] = await db.sql`select statements from supabase_migrations.schema_migrations where version = ${A}`;
    expect(row.statements.join("\n")).toContain("caf\uFFFD \uFFFD\uFFFD end");

    const r = driftGuard(["check", "--db-url", db.url, "--format", "json"], { cwd: project });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.summary.in_sync).toBe(1);
    expect(report.summary.remote_only).toBe(0);
    expect(report.problems).toEqual([expect.objectContaining({ level: "warning", file: `supabase/migrations/${A}_latin1.sql`, message: expect.stringContaining("UTF-8") })]);
    expect(JSON.stringify(report.actions)).not.toContain("fetch");
  });
});
