/**
 * The pg_temp type hijack against drift_guard's SECURITY DEFINER trigger functions, tried by a
 * bare LOGIN role (no grant at all beyond what PUBLIC has: CONNECT and TEMP on the database).
 *
 * Postgres searches the session's temporary schema for relation and type names before the
 * path it is given, unless pg_temp is named in that path. A role that creates `pg_temp.text`
 * as a domain whose CHECK calls its own function, and then runs any DDL, gets that function
 * run inside the ledger's event trigger, i.e. as the installer, if the trigger's search_path
 * leaves pg_temp implicit or a type in its body is looked up there. Each type the trigger
 * functions (and what they call) name is tried on its own.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plantTempDomainTrap } from "./harness/temp_domain_trap.ts";
import { createTestDatabase, databaseUrl, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./drift_guard_schema_helpers.ts";

/** The type names the ledger's trigger functions and their helpers declare or cast to. */
const HIJACKABLE_TYPES = ["text", "jsonb", "regclass", "int4", "int8", "bool", "uuid", "timestamptz", "inet", "bytea"];

const ATTACKER = `dg_attacker_${process.pid}`;
const PASSWORD = "attacker-password";

describe("pg_temp type hijack by a bare LOGIN role", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase("temp_hijack");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
    const [{ active }] = await db.sql`select (drift_guard.ledger_status() ->> 'active')::boolean as active`;
    expect(active, "the ledger's event triggers must be active for this test to mean anything").toBe(true);
  });
  afterAll(async () => {
    if (db) {
      await db.drop();
      const admin = postgres(databaseUrl("postgres"), { onnotice: () => {}, max: 1 });
      try {
        for (const type of HIJACKABLE_TYPES) await admin.unsafe(`drop role if exists ${ATTACKER}_${type}`);
      } finally {
        await admin.end();
      }
    }
  });

  it.each(HIJACKABLE_TYPES)("a pg_temp.%s domain runs nothing as the owner", async (type) => {
    // One role per type, so that one type's success cannot mask another's.
    const attackerRole = `${ATTACKER}_${type}`;
    await db.sql.unsafe(`drop role if exists ${attackerRole}`);
    await db.sql.unsafe(`create role ${attackerRole} login nocreaterole nobypassrls password '${PASSWORD}'`);
    const attacker = postgres(databaseUrl(db.name, PASSWORD, attackerRole), { onnotice: () => {}, max: 1 });
    try {
      await plantTempDomainTrap(attacker, type);
      // The claims make the trigger parse them too (drift_guard.ledger_jwt_claims).
      await attacker.unsafe(`select pg_catalog.set_config('request.jwt.claims', '{"sub":"x","role":"service_role"}', false)`);
      // Any DDL fires the ledger's event trigger: here a temporary table, which needs no grant.
      await attacker.unsafe(`create temp table trigger_the_ledger (id pg_catalog.int4)`);
      await attacker.unsafe(`drop table pg_temp.trigger_the_ledger`);
      const seen = await attacker.unsafe<{ who: string }[]>(`select who from pg_temp.seen where who <> pg_catalog."session_user"()::pg_catalog.text`);
      expect(seen.map((s) => s.who), `code ran as another role through pg_temp.${type}`).toEqual([]);
    } finally {
      await attacker.end({ timeout: 1 });
    }
    const [role] = await db.sql`select rolcreaterole, rolbypassrls from pg_catalog.pg_roles where rolname = ${attackerRole}`;
    expect(role).toEqual({ rolcreaterole: false, rolbypassrls: false });
  });
});
