/**
 * db/function_queries.ts's readManifestIndex: the function's /status by name leaves the
 * stored manifest's statements in the database. The report must be the same as from the
 * whole manifest, for every state a migration can be in.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readManifest, readManifestIndex, storeManifest } from "../db/function_queries.ts";
import { installSchema } from "../db/install.ts";
import { driftReport } from "../db/report.ts";
import { buildManifest, manifestMigrations, parseStoredManifest } from "../shared/manifest.ts";
import { parseMigrationFiles } from "../shared/migration_files.ts";
import { splitStatements } from "../shared/sql_statements.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { SCHEMA_MIGRATIONS_DDL } from "./harness/schema_migrations.ts";

const files: Record<string, string> = {
  "20240101000000_in_sync.sql": "create table public.a (id int);\ncomment on table public.a is 'ünïcode; and a '';'' in a literal';",
  "20240102000000_edited.sql": "create table public.b (id int, note text);",
  "20240103000000_renamed.sql": "create table public.c (id int);",
  "20240104000000_version_only.sql": "create table public.d (id int);",
  "20240105000000_local_only.sql": "create table public.e (id int);",
  "20240107000000_empty.sql": "-- nothing but a comment\n",
};
const manifest = buildManifest(
  parseMigrationFiles(Object.entries(files).map(([fileName, text]) => ({ path: `supabase/migrations/${fileName}`, fileName, bytes: new TextEncoder().encode(text) }))),
  null,
  new Date("2026-12-02T00:00:00Z"),
);

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("manifest_index");
  await installSchema(db.sql);
});
afterAll(() => db.drop());

async function reports(id: number) {
  const whole = manifestMigrations(await readManifest(db.sql, id, parseStoredManifest));
  const index = await readManifestIndex(db.sql, id);
  expect(index).not.toBeNull();
  const byIndex = manifestMigrations(index!);
  return {
    whole: await driftReport(db.sql, whole.local, whole.problems, { evidence: "names" }),
    index: await driftReport(db.sql, byIndex.local, byIndex.problems, { evidence: "names" }),
    local: byIndex.local,
  };
}

describe("a stored manifest read by the database", () => {
  it("null before the history table exists: the whole manifest is read", async () => {
    const stored = await storeManifest(db.sql, manifest, { test: true });
    expect(await readManifestIndex(db.sql, stored.id)).toBeNull();
  });

  it("gives the same report as the whole manifest, in every state, with statements only for what the history lacks", async () => {
    const history = (name: string) => splitStatements(files[Object.keys(files).find((f) => f.includes(name))!]);
    await db.sql.unsafe(SCHEMA_MIGRATIONS_DDL);
    const rows = [
      { version: "20240101000000", name: "in_sync", statements: history("in_sync") },
      { version: "20240102000000", name: "edited", statements: ["create table public.b (id bigint, note text)"] },
      { version: "20240103000000", name: "old_name", statements: history("renamed") },
      { version: "20240104000000", name: null, statements: null },
      { version: "20240106000000", name: "remote_only", statements: ["create table public.f (id int)"] },
      { version: "20240107000000", name: "empty", statements: history("empty") },
    ];
    for (const r of rows) await db.sql`insert into supabase_migrations.schema_migrations ${db.sql(r)}`;
    const stored = await storeManifest(db.sql, manifest, { test: true });
    const { whole, index, local } = await reports(stored.id);
    expect(index).toEqual(whole);
    expect(Object.fromEntries(whole.migrations.map((m) => [m.version, m.state]))).toEqual({
      "20240101000000": "in_sync",
      "20240102000000": "edited",
      "20240103000000": "renamed",
      "20240104000000": "in_sync",
      "20240105000000": "out_of_order",
      "20240106000000": "remote_only",
      "20240107000000": "in_sync",
    });
    // Only the local-only migration's statements were read; the others travel as hashes.
    expect(local.filter((m) => m.statements.length > 0).map((m) => m.version)).toEqual(["20240105000000"]);
    expect(local.filter((m) => m.statementsHash === undefined).map((m) => m.version)).toEqual(["20240105000000"]);
  });

  it("null for a manifest not verified under the current checksum rule (it is then read whole and validated)", async () => {
    const stored = await storeManifest(db.sql, manifest, { test: true });
    // As a row stored by an older drift-guard, or edited by hand, would read.
    await db.sql`update drift_guard.manifests set body = body - 'verified_checksum_rule' where id = ${stored.id}`;
    expect(await readManifestIndex(db.sql, stored.id)).toBeNull();
  });
});
