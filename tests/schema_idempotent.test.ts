/**
 * Every drift_guard schema file is idempotent. `drift-guard init` concatenates them
 * into one migration of the user's, which `supabase db push` may run where
 * `drift-guard install` already did, and a later install runs them again. Imports
 * db/install.ts directly: db/ runs under Node as it does under Deno.
 */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { schemaMigrations } from "../db/install.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";

describe("the drift_guard schema files", () => {
  let db: TestDatabase;
  afterAll(() => db?.drop());

  it("are found in version order", () => {
    const files = schemaMigrations();
    expect(files.length).toBeGreaterThan(0);
    expect(files.map((f) => f.version)).toEqual([...files.map((f) => f.version)].sort());
  });

  it("each runs twice in a row, in order, without error", async () => {
    db = await createTestDatabase("idempotent");
    for (const file of schemaMigrations()) {
      const text = readFileSync(file.path, "utf8");
      await db.sql.begin(async (tx) => {
        await tx.unsafe(text);
        await tx.unsafe(text);
      });
    }
    const [row] = await db.sql`select count(*)::int as n from pg_catalog.pg_namespace where nspname = 'drift_guard'`;
    expect(row.n).toBe(1);
  });
});
