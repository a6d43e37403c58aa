/**
 * drift_guard.history_digest() in SQL and historyDigest() in shared/checksum.ts
 * must produce the same bytes for the same rows: the CLI plans with one and the
 * database checks with the other.
 */
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { historyDigest, sha256Hex } from "../shared/checksum.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { createHistoryTable, dbDigest, type HistoryRow, insertRows, installDirect, readRows } from "./drift_guard_schema_helpers.ts";
import { LEGACY_SCHEMA_MIGRATIONS_DDL } from "./harness/schema_migrations.ts";

const EMPTY = `sha256:${sha256Hex("")}`;

const TRICKY: HistoryRow[] = [
  { version: "20251025212010", name: "seed_incident", statements: ["insert into t values (1)", "select 2"] },
  { version: "001", name: "short_version", statements: ["select 1"] },
  { version: "1", name: "shortest", statements: [] },
  { version: "20240101000000123", name: "longer_version", statements: null },
  { version: "20240101000001", name: null, statements: ["select 'no name'"] },
  { version: "20240101000002", name: "unicode_😀_名前_é", statements: ["select '😀'", "select 'ﬀ' -- ligature", "comment on table t is 'naïve'"] },
  { version: "20240101000003", name: "pipes|and:colons", statements: ["select 'a|b'", "select '3:abc|'", "|", ":", "-", "1:x"] },
  { version: "20240101000004", name: "newlines", statements: ["select 1\nfrom t\n", "\n", "select $$\r\n$$", ""] },
  { version: "20240101000005", name: "", statements: ["", ""] },
  { version: "20240101000006", name: "brackets", statements: ["]", "[", "0[]", "{}", "\"quoted\"", "back\\slash"] },
  // Orderings where UTF-16 and code-point (COLLATE "C") order disagree.
  { version: "ﬀ", name: "bmp_after_surrogates", statements: null },
  { version: "😀", name: "astral", statements: ["😀"] },
  { version: "a", name: "lower", statements: null },
  { version: "B", name: "upper", statements: null },
  { version: "é", name: "latin1", statements: null },
];

describe("drift_guard.history_digest()", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("history_digest");
    await installDirect(db.sql);
  });
  afterAll(async () => db?.drop());
  beforeEach(async () => {
    await db.sql.unsafe("drop schema if exists supabase_migrations cascade");
  });

  it("is the digest of the empty string when the history table does not exist", async () => {
    expect(await dbDigest(db.sql)).toBe(EMPTY);
    expect(historyDigest([])).toBe(EMPTY);
  });

  it("the same when the schema exists but the table does not", async () => {
    await db.sql`create schema supabase_migrations`;
    expect(await dbDigest(db.sql)).toBe(EMPTY);
  });

  it("the same for an empty table", async () => {
    await createHistoryTable(db.sql);
    expect(await dbDigest(db.sql)).toBe(EMPTY);
  });

  it("matches the TypeScript digest on tricky rows", async () => {
    await createHistoryTable(db.sql);
    await insertRows(db.sql, TRICKY);
    const sqlDigest = await dbDigest(db.sql);
    expect(sqlDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Over the rows as written, and as read back: no round-trip loss either way.
    expect(historyDigest(TRICKY)).toBe(sqlDigest);
    expect(historyDigest(await readRows(db.sql))).toBe(sqlDigest);
  });

  it("null elements inside statements encode as '-' in both", async () => {
    await createHistoryTable(db.sql);
    await db.sql`insert into supabase_migrations.schema_migrations values ('7', array['a', null, 'b'], 'nulls')`;
    const rows = [{ version: "7", name: "nulls", statements: ["a", null, "b"] as unknown as string[] }];
    expect(await dbDigest(db.sql)).toBe(historyDigest(rows));
  });

  it("distinguishes null statements from an empty array, and null name from an empty name", async () => {
    await createHistoryTable(db.sql);
    const digests = new Set<string>();
    for (const row of [
      { version: "1", name: null, statements: null },
      { version: "1", name: "", statements: null },
      { version: "1", name: null, statements: [] },
      { version: "1", name: "", statements: [""] },
    ]) {
      await db.sql`truncate supabase_migrations.schema_migrations`;
      await insertRows(db.sql, [row]);
      const d = await dbDigest(db.sql);
      expect(d).toBe(historyDigest([row]));
      digests.add(d);
    }
    expect(digests.size).toBe(4);
  });

  it("an old-CLI table with only a version column reads as null name and statements", async () => {
    await db.sql.unsafe(`${LEGACY_SCHEMA_MIGRATIONS_DDL}
      insert into supabase_migrations.schema_migrations values ('002'), ('001');`);
    expect(await dbDigest(db.sql)).toBe(historyDigest([
      { version: "001", name: null, statements: null },
      { version: "002", name: null, statements: null },
    ]));
  });

  it("matches on random rows (property)", async () => {
    await createHistoryTable(db.sql);
    // Postgres text cannot hold NUL; everything else, astral planes included, is fair game.
    const text = fc.string({ unit: "binary", maxLength: 12 }).filter((s) => !s.includes("\u0000"));
    const row = fc.record({
      version: text.filter((s) => s.length > 0),
      name: fc.option(text, { nil: null }),
      statements: fc.option(fc.array(text, { maxLength: 4 }), { nil: null }),
    });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(row, { selector: (r) => r.version, maxLength: 8 }), async (rows) => {
        await db.sql`truncate supabase_migrations.schema_migrations`;
        await insertRows(db.sql, rows);
        expect(await dbDigest(db.sql)).toBe(historyDigest(rows));
      }),
      { numRuns: 60 },
    );
  });
});
