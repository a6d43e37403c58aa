/** The one table of platform schemas, and the rules that read it. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isPlatformSchema, PLATFORM_SCHEMA_NAMES, PLATFORM_SCHEMAS, SHADOW_SCHEMAS, SKELETON_SCHEMAS } from "../shared/platform_schemas.ts";
import { DEFAULT_EXCLUDED_SCHEMAS } from "../shared/schema_diff.ts";
import { PLATFORM_SCHEMAS as BOOTSTRAP_SCHEMAS } from "../db/shadow.ts";

describe("platform schemas", () => {
  it("schema-diff's default exclusions are the table's names, in its order", () => {
    expect(DEFAULT_EXCLUDED_SCHEMAS).toEqual(PLATFORM_SCHEMA_NAMES);
    expect(new Set(PLATFORM_SCHEMA_NAMES).size).toBe(PLATFORM_SCHEMAS.length);
  });

  it("the DDL ledger's default skip list is the table's ledger schemas plus pg_catalog and information_schema", () => {
    const sql = readFileSync(new URL("../supabase/migrations/20251202000400_drift_guard_ledger.sql", import.meta.url), "utf8");
    const m = /skip_schemas (?:pg_catalog\.)?text\[\] not null default array\[([^\]]*)\]/.exec(sql);
    expect(m).not.toBeNull();
    const inSql = [...m![1].matchAll(/'([^']+)'/g)].map((x) => x[1]).sort();
    const expected = [...PLATFORM_SCHEMAS.filter((s) => s.ledger).map((s) => s.name), "information_schema", "pg_catalog"].sort();
    expect(inSql).toEqual(expected);
  });

  it("the shadow makes only skeleton schemas that no extension creates, and never drift_guard's or the history's", () => {
    expect(BOOTSTRAP_SCHEMAS).toEqual(SHADOW_SCHEMAS);
    for (const s of ["cron", "net", "pgmq", "pgtle", "drift_guard", "supabase_migrations"]) expect(SHADOW_SCHEMAS).not.toContain(s);
    for (const s of ["drift_guard", "supabase_migrations"]) expect(SKELETON_SCHEMAS).not.toContain(s);
    for (const s of ["auth", "storage", "supabase_functions", "extensions", "pgmq", "cron", "vault"]) expect(SKELETON_SCHEMAS).toContain(s);
  });

  it("isPlatformSchema answers from the table", () => {
    expect(isPlatformSchema("supabase_functions")).toBe(true);
    expect(isPlatformSchema("public")).toBe(false);
    expect(isPlatformSchema("pg_catalog")).toBe(false);
  });
});
