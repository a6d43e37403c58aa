/** `drift-guard install`: creates the schema, is idempotent, and two at once do the work once. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { runCli, schemaFiles } from "./drift_guard_schema_helpers.ts";

const versions = schemaFiles().map((f) => f.version);

async function installedVersions(db: TestDatabase): Promise<{ version: string; n: number }[]> {
  return await db.sql<{ version: string; n: number }[]>`
    select version, count(*)::int as n from drift_guard.schema_version group by version order by version`;
}

describe("install", () => {
  it("has at least one schema file, named *drift_guard*", async () => {
    expect(versions.length).toBeGreaterThan(0);
    expect(versions).toContain("20251101000000");
  });

  describe("on a fresh database", () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase("install");
    });
    afterAll(async () => db?.drop());

    it("applies every version the first time", async () => {
      const r = await runCli(["install", "--db-url", db.url]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      for (const v of versions) expect(r.stdout).toContain(`applied drift_guard schema version ${v}`);
    });

    it("is a no-op the second time", async () => {
      const r = await runCli(["install", "--db-url", db.url]);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("already up to date");
      expect(r.stdout).not.toContain("applied");
      expect(await installedVersions(db)).toEqual(versions.map((version) => ({ version, n: 1 })));
    });

    it("creates the tables and functions, and nothing in public", async () => {
      const tables = await db.sql<{ relname: string }[]>`
        select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'drift_guard' and c.relkind = 'r' order by 1`;
      expect(tables.map((t) => t.relname)).toEqual(["audit_log", "ddl_ledger", "history_writes", "ledger_health", "ledger_settings", "manifests", "schema_version", "tokens"]);
      const fns = await db.sql<{ sig: string }[]>`
        select p.oid::regprocedure::text as sig from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'drift_guard'`;
      const sigs = fns.map((f) => f.sig);
      expect(sigs).toContain("drift_guard.history_digest()");
      expect(sigs).toContain("drift_guard.apply_repair(text,jsonb,text,jsonb,jsonb)");
      expect(sigs).toContain("drift_guard.undo_repair(uuid,text,jsonb)");
      const [pub] = await db.sql<{ n: number }[]>`
        select (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public')
             + (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public') as n`;
      expect(Number(pub.n)).toBe(0);
    });

    it("runs a file again when its text changed since it ran (an upgrade), keeping the data; unchanged files are skipped", async () => {
      // As an older release left it: the ledger file's function missing, its recorded checksum another.
      await db.sql.unsafe("drop function drift_guard.ledger_claim_alert(bigint[], integer)");
      await db.sql`update drift_guard.schema_version set checksum = 'sha256:from-an-older-release' where version = '20251202000400'`;
      await db.sql`insert into drift_guard.tokens (label, scope, public_id, secret_hash)
                   values ('survives-upgrade', 'read', 'abcdefabcdef', ${"0".repeat(64)})`;
      const r = await runCli(["install", "--db-url", db.url]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain("updated drift_guard schema version 20251202000400 (its file changed since it ran here)");
      expect(r.stdout).not.toContain("applied");
      expect(r.stdout.match(/updated/g)).toHaveLength(1);
      const [fn] = await db.sql`select to_regprocedure('drift_guard.ledger_claim_alert(bigint[], integer)') is not null as back`;
      expect(fn.back).toBe(true);
      const [t] = await db.sql`select count(*)::int as n from drift_guard.tokens where label = 'survives-upgrade'`;
      expect(t.n).toBe(1);
      expect((await runCli(["install", "--db-url", db.url])).stdout).toContain("already up to date");
    });

    it("re-runs a file whose version record is missing (e.g. pushed by hand) without harm", async () => {
      await db.sql`insert into drift_guard.tokens (label, scope, public_id, secret_hash)
                   values ('keep-me', 'read', '0123456789ab', ${"0".repeat(64)})`;
      await db.sql`delete from drift_guard.schema_version`;
      const r = await runCli(["install", "--db-url", db.url]);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("applied drift_guard schema version");
      expect(await installedVersions(db)).toEqual(versions.map((version) => ({ version, n: 1 })));
      const [t] = await db.sql`select count(*)::int as n from drift_guard.tokens where label = 'keep-me'`;
      expect(t.n).toBe(1);
    });
  });

  it("two installs at once both succeed and record each version once", async () => {
    const db = await createTestDatabase("install_concurrent");
    try {
      const [a, b] = await Promise.all([
        runCli(["install", "--db-url", db.url]),
        runCli(["install", "--db-url", db.url]),
      ]);
      expect(a.stderr + b.stderr).toBe("");
      expect([a.status, b.status]).toEqual([0, 0]);
      // Exactly one of them did the work for each version.
      for (const v of versions) {
        const appliedBy = [a, b].filter((r) => r.stdout.includes(`applied drift_guard schema version ${v}`));
        expect(appliedBy).toHaveLength(1);
      }
      expect(await installedVersions(db)).toEqual(versions.map((version) => ({ version, n: 1 })));
    } finally {
      await db.drop();
    }
  });

  it("without a database URL: exit 2 and a message", async () => {
    const r = await runCli(["install"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("missing --db-url");
  });

  it("admin commands on a database without the schema say how to install it", async () => {
    const db = await createTestDatabase("not_installed");
    try {
      for (const args of [["audit"], ["token", "list"], ["token", "create", "--scope", "read", "--label", "x"], ["token", "revoke", "x"]]) {
        const r = await runCli([...args, "--db-url", db.url]);
        expect(r.status, args.join(" ")).toBe(2);
        expect(r.stderr).toContain("drift_guard is not installed in this database: run drift-guard install");
      }
    } finally {
      await db.drop();
    }
  });

  it("an unreachable database: exit 3, and the password is never printed", async () => {
    const r = await runCli(["install", "--db-url", "postgresql://postgres:hunter2-secret@127.0.0.1:1/postgres"]);
    expect(r.status).toBe(3);
    expect(r.stderr + r.stdout).not.toContain("hunter2-secret");
  });
});
