/**
 * The replay that proves a squash's repair (db/history_replay.ts), against a real
 * history: what the squashed rows built and the squash file does not is either gone
 * live (the squash alone equals live) or still there (first the file that records it),
 * and an object made in the dashboard is recorded the same way.
 */
import { afterEach, describe, expect, it } from "vitest";
import { splitAndChecksum } from "../shared/checksum.ts";
import { computeDrift } from "../shared/drift.ts";
import { splitStatements } from "../shared/sql_statements.ts";
import type { LocalMigration, RemoteMigration } from "../shared/types.ts";
import { verifyHistoryReplay } from "../db/history_replay.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { SCHEMA_MIGRATIONS_DDL } from "./harness/schema_migrations.ts";

const dbs: TestDatabase[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.drop();
});

function file(version: string, name: string, sql: string): LocalMigration {
  return { version, name, path: `supabase/migrations/${version}_${name}.sql`, ...splitAndChecksum(sql) };
}

/** A database where each row's SQL ran, then `extra` (the dashboard). */
async function live(rows: Array<[string, string, string]>, extra = ""): Promise<{ db: TestDatabase; remote: RemoteMigration[] }> {
  const db = await createTestDatabase("squash_replay");
  dbs.push(db);
  await db.sql.unsafe(SCHEMA_MIGRATIONS_DDL);
  for (const [version, name, sql] of rows) {
    await db.sql.unsafe(sql);
    await db.sql`insert into supabase_migrations.schema_migrations (version, name, statements) values (${version}, ${name}, ${splitStatements(sql)})`;
  }
  if (extra) await db.sql.unsafe(extra);
  return { db, remote: rows.map(([version, name, sql]) => ({ version, name, statements: splitStatements(sql) })) };
}

async function verified(db: TestDatabase, local: LocalMigration[], remote: RemoteMigration[]) {
  const report = computeDrift({ local, remote });
  return (await verifyHistoryReplay(db.sql, local, remote, report.findings, { now: new Date("2026-12-01T00:00:00Z") })).findings;
}

describe("a squash's replay", () => {
  const A = "create table public.a (id int);\ncreate table public.z (id int);\n";
  const B = "create table public.b (id int);\n";

  it("what the rows built and the squash leaves out was dropped since: the squash alone is offered, proved by replay", async () => {
    const { db, remote } = await live([["20260101000000", "a", A], ["20260102000000", "b", B], ["20260103000000", "drop_z", "drop table public.z;\n"]]);
    const squash = file("20260103000000", "drop_z", "create table public.a (id int);\ncreate table public.b (id int);\n");
    const [f] = await verified(db, [squash], remote);
    expect(f).toMatchObject({ kind: "squashed", verification: { status: "ok" } });
    expect(f.command).toBe('drift-guard repair --squash 20260101000000 20260102000000 --into 20260103000000 --reason "<why>"');
    expect(f.live_migration).toBeUndefined();
  });

  it("an object made in the dashboard, which no file builds: first the file recording it, then the squash with it", async () => {
    const { db, remote } = await live([["20260101000000", "a", "create table public.a (id int);\n"], ["20260102000000", "b", B]], "create table public.made_by_hand (note text);");
    const squash = file("20260102000000", "b", "create table public.a (id int);\ncreate table public.b (id int);\n");
    const [f] = await verified(db, [squash], remote);
    expect(f).toMatchObject({ kind: "squashed", command: "drift-guard fetch --live-definitions 20260102000000", verification: { status: "ok" } });
    expect(f.live_migration).toMatchObject({ file: "supabase/migrations/20260102000001_record_live_definitions_20260102000000.sql", version: "20260102000001" });
    expect(f.live_migration!.sql).toMatch(/create table public\.made_by_hand/i);
    expect(f.explain).toContain("table public.made_by_hand");

    const companion = file("20260102000001", "record_live_definitions_20260102000000", f.live_migration!.sql);
    const [next] = await verified(db, [squash, companion], remote);
    expect(next).toMatchObject({ kind: "squashed", into: ["20260102000000", "20260102000001"], verification: { status: "ok" } });
    expect(next.command).toBe('drift-guard repair --squash 20260101000000 --into 20260102000000 20260102000001 --reason "<why>"');
  });

  it("a squash file that builds a table otherwise than live: not offered, with the difference as the reason", async () => {
    const { db, remote } = await live([["20260101000000", "a", "create table public.a (id int);\n"], ["20260102000000", "b", B]]);
    const squash = file("20260102000000", "b", "create table public.a (id bigint);\ncreate table public.b (id int);\n");
    const [f] = await verified(db, [squash], remote);
    expect(f.kind).toBe("squashed");
    expect(f.verification?.status).toBe("differs");
    expect(f.live_migration).toBeUndefined();
  });
});
