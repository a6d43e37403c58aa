/**
 * npm run bench: prints numbers, asserts nothing.
 *  1. parse + checksum throughput (files/s, MB/s) on a realistic corpus
 *  2. `drift-guard check` wall time at 1,000 / 5,000 / 10,000 migrations, next to
 *     `supabase migration list` on the same database in the same run.
 * Run with BENCH_SIZES=1000,5000 to pick sizes.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import postgres from "npm:postgres@^3.4.9";
import { parseMigrationFiles } from "../shared/migration_files.ts";
import { splitStatements } from "../shared/sql_statements.ts";
import { startPostgres } from "../tests/harness/postgres.ts";

const root = new URL("..", import.meta.url).pathname;
const corpusDir = join(root, "tests/fixtures/corpus");
const corpus = readdirSync(corpusDir).map((f) => readFileSync(join(corpusDir, f), "utf8")).filter((t) => t.length > 0);
const sizes = (process.env.BENCH_SIZES ?? "1000,5000,10000").split(",").map(Number);
const runs = Number(process.env.BENCH_RUNS ?? 3);

function migrationText(i: number): string {
  // Distinct content per file: the corpus with a numbered suffix on every public table name.
  return corpus[i % corpus.length].replaceAll("public.", `public.t${i}_`);
}
const version = (i: number) => String(20200101000000 + i * 100);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeCommand(cmd: string, args: string[], cwd: string): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const res = spawnSync(cmd, args, { cwd, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    times.push(performance.now() - t0);
    if (res.status !== 0 && res.status !== 1) throw new Error(`${cmd} ${args[0]} failed: ${res.stderr}`);
  }
  return median(times);
}

// 1. throughput
{
  const n = 5000;
  const enc = new TextEncoder();
  const files = Array.from({ length: n }, (_, i) => ({ path: `m/${version(i)}_x.sql`, fileName: `${version(i)}_x.sql`, bytes: enc.encode(migrationText(i)) }));
  const bytes = files.reduce((s, f) => s + f.bytes.length, 0);
  parseMigrationFiles(files.slice(0, 200)); // warm up the JIT
  const t0 = performance.now();
  parseMigrationFiles(files);
  const ms = performance.now() - t0;
  console.log(`parse + checksum: ${n} files, ${(bytes / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms = ${Math.round(n / (ms / 1000))} files/s, ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`);
}

// 2. check vs supabase migration list
const server = await startPostgres();
try {
  console.log(`\ncheck wall time (median of ${runs}; whole process, as a user runs it)`);
  console.log("migrations  drift-guard check  supabase migration list  ratio");
  for (const n of sizes) {
    const dbName = `bench_${n}`;
    const admin = postgres(server.url(), { onnotice: () => {} });
    await admin.unsafe(`create database ${dbName}`);
    await admin.end();
    const url = server.url(dbName);
    const sql = postgres(url, { onnotice: () => {} });
    await sql.unsafe(`create schema supabase_migrations;
      create table supabase_migrations.schema_migrations (version text not null primary key, statements text[], name text)`);
    const project = mkdtempSync(join(tmpdir(), "dg-bench-"));
    const dir = join(project, "supabase", "migrations");
    mkdirSync(dir, { recursive: true });
    const rows = [];
    for (let i = 0; i < n; i++) {
      const text = migrationText(i);
      writeFileSync(join(dir, `${version(i)}_m${i}.sql`), text);
      rows.push({ version: version(i), name: `m${i}`, statements: splitStatements(text) });
    }
    for (let i = 0; i < rows.length; i += 1000) await sql`insert into supabase_migrations.schema_migrations ${sql(rows.slice(i, i + 1000))}`;
    await sql.end();
    const ours = timeCommand("node", [join(root, "bin/drift-guard.js"), "check", "--db-url", url, "--format", "json"], project);
    const theirs = timeCommand(join(root, "node_modules/.bin/supabase"), ["migration", "list", "--db-url", url, "--output-format", "json", "--workdir", project], project);
    console.log(`${String(n).padStart(10)}  ${ours.toFixed(0).padStart(14)} ms  ${theirs.toFixed(0).padStart(20)} ms  ${(ours / theirs).toFixed(2)}`);
    rmSync(project, { recursive: true, force: true });
  }
} finally {
  server.destroy();
}
