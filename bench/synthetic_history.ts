/**
 * The benches' synthetic project: N migrations made from the test corpus, written as files
 * and recorded in the history as `supabase db push` would, so every one starts in sync.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type postgres from "postgres";
import { splitStatements } from "../shared/sql_statements.ts";
import { SCHEMA_MIGRATIONS_DDL } from "../tests/harness/schema_migrations.ts";

const corpusDir = new URL("../tests/fixtures/corpus/", import.meta.url).pathname;
const corpus = readdirSync(corpusDir).map((f) => readFileSync(join(corpusDir, f), "utf8")).filter((t) => t.length > 0);

/** Distinct content per file: the corpus with a numbered prefix on every public table name. */
export const migrationText = (i: number): string => corpus[i % corpus.length].replaceAll("public.", `public.t${i}_`);
export const version = (i: number): string => String(20200101000000 + i * 100);

/**
 * Writes `count` migrations into `<project>/supabase/migrations` and the same migrations into
 * a fresh supabase_migrations.schema_migrations of `sql`'s database.
 *
 * @example await writeSyntheticHistory(sql, project, 10_000)
 */
export async function writeSyntheticHistory(sql: postgres.Sql, project: string, count: number): Promise<void> {
  await sql.unsafe(SCHEMA_MIGRATIONS_DDL);
  const dir = join(project, "supabase", "migrations");
  mkdirSync(dir, { recursive: true });
  const rows = [];
  for (let i = 0; i < count; i++) {
    const text = migrationText(i);
    writeFileSync(join(dir, `${version(i)}_m${i}.sql`), text);
    rows.push({ version: version(i), name: `m${i}`, statements: splitStatements(text) });
  }
  for (let i = 0; i < rows.length; i += 1000) await sql`insert into supabase_migrations.schema_migrations ${sql(rows.slice(i, i + 1000))}`;
}
