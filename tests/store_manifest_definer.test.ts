/**
 * drift_guard.store_manifest is SECURITY DEFINER (service_role's only write, so that it needs no
 * INSERT on the table): a role that may execute it still runs nothing as the owner through
 * pg_temp, and stores exactly one checked row.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plantTempDomainTrap } from "./harness/temp_domain_trap.ts";
import { createTestDatabase, databaseUrl, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./drift_guard_schema_helpers.ts";

/** The types store_manifest declares, casts to or reads from the manifests row. */
const HIJACKABLE_TYPES = ["jsonb", "text", "int4", "int8", "timestamptz", "bool"];
const UPLOADER = `dg_uploader_${process.pid}`;
const PASSWORD = "uploader-password";

describe("store_manifest, SECURITY DEFINER, called by service_role", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase("store_manifest_definer");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
  });
  afterAll(async () => {
    if (db) {
      await db.drop();
      const admin = postgres(databaseUrl("postgres"), { onnotice: () => {}, max: 1 });
      try {
        for (const type of HIJACKABLE_TYPES) await admin.unsafe(`drop role if exists ${UPLOADER}_${type}`);
      } finally {
        await admin.end();
      }
    }
  });

  it.each(HIJACKABLE_TYPES)("a pg_temp.%s domain runs nothing as the owner", async (type) => {
    const role = `${UPLOADER}_${type}`;
    await db.sql.unsafe(`drop role if exists ${role}`);
    await db.sql.unsafe(`create role ${role} login nocreaterole nobypassrls password '${PASSWORD}' in role service_role`);
    const uploader = postgres(databaseUrl(db.name, PASSWORD, role), { onnotice: () => {}, max: 1 });
    try {
      await plantTempDomainTrap(uploader, type);
      await uploader.unsafe(`set role service_role`);
      const [stored] = await uploader.unsafe<{ m: { migration_count: number } }[]>(
        `select drift_guard.store_manifest('{"migrations":[{"version":"1"}]}'::pg_catalog.jsonb, '{"token":"ci"}'::pg_catalog.jsonb) as m`);
      expect(stored.m.migration_count).toBe(1);
      await uploader.unsafe(`reset role`);
      const seen = await uploader.unsafe<{ who: string }[]>(`select who from pg_temp.seen where who <> pg_catalog."session_user"()::pg_catalog.text`);
      expect(seen.map((s) => s.who), `code ran as another role through pg_temp.${type}`).toEqual([]);
    } finally {
      await uploader.end({ timeout: 1 });
    }
    const [attacker] = await db.sql`select rolcreaterole, rolbypassrls from pg_catalog.pg_roles where rolname = ${role}`;
    expect(attacker).toEqual({ rolcreaterole: false, rolbypassrls: false });
  });

  it("without EXECUTE (anon, authenticated, a bare login role) it cannot be called", async () => {
    for (const role of ["anon", "authenticated"]) {
      const err = await db.sql.begin(async (tx) => {
        await tx.unsafe(`set local role ${role}`);
        await tx.unsafe(`select drift_guard.store_manifest('{"migrations":[]}'::jsonb, '{}'::jsonb)`);
      }).then(() => null, (e: { code?: string }) => e.code);
      expect(err, role).toBe("42501");
    }
  });
});
