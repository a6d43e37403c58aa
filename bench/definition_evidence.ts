/**
 * Benchmark: evidence by definition for the seed incident. Prints numbers, asserts nothing.
 *
 * "Production" is a throwaway PostgreSQL 15 seeded with the demo's incident data
 * (demo/incident.js, which the demo replays): the 11 legacy files' SQL run by hand (plus the one changed
 * by hand later), then the 78 migrations recorded as `supabase db push` records them.
 * Measured, in-process (db/report.ts driftReport, as `drift-guard check --db-url` runs it):
 *  - the 11 legacy files (and 014) as the only local files: the seed's first `check`;
 *  - the same after `fetch` (78 in_sync files replayed too);
 *  - evidence by name only, for comparison.
 * The embedded shadow's initdb cache is warm (the normal case; the first run ever adds
 * the initdb, a few seconds, once).
 *
 *   deno run --allow-all --config deno.json bench/definition_evidence.ts
 *   BENCH_RUNS=5 …
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import postgres from "postgres";
import { collectDefinitionEvidence } from "../db/definition_evidence.ts";
import { driftReport } from "../db/report.ts";
import { statementsChecksum } from "../shared/checksum.ts";
import type { LocalMigration } from "../shared/types.ts";
import { startPostgres } from "../tests/harness/postgres.ts";
// @ts-ignore: the demo is plain JavaScript
import { HAND_CHANGED_MIGRATION, HAND_CHANGES, LEGACY_MIGRATIONS, migrationFileText, REMOTE_MIGRATIONS } from "../demo/incident.js";
import { SCHEMA_MIGRATIONS_DDL } from "../tests/harness/schema_migrations.ts";

const root = new URL("..", import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Seed {
  version: string;
  name: string;
  statements: string[];
  fileName?: string;
}

const asLocal = (m: Seed): LocalMigration => ({
  version: m.version,
  name: m.name,
  path: `supabase/migrations/${m.fileName ?? `${m.version}_${m.name}.sql`}`,
  checksum: statementsChecksum(m.statements),
  statements: m.statements,
});

const server = await startPostgres();
const admin = postgres(server.url(), { onnotice: () => {}, max: 1 });
const cacheDir = mkdtempSync(join(tmpdir(), "drift-guard-bench-cache-"));
process.env.DRIFT_GUARD_CACHE_DIR = cacheDir;
try {
  await admin.unsafe("create database bench_live");
  const live = postgres(server.url("bench_live"), { onnotice: () => {}, max: 4 });
  await live.unsafe(readFileSync(join(root, "tests/harness/supabase_roles.sql"), "utf8"));
  for (const m of [...LEGACY_MIGRATIONS, HAND_CHANGED_MIGRATION] as Seed[]) await live.unsafe(migrationFileText(m.statements));
  await live.unsafe(SCHEMA_MIGRATIONS_DDL);
  for (const m of REMOTE_MIGRATIONS as Seed[]) {
    await live.begin(async (tx) => {
      for (const s of m.statements) await tx.unsafe(s);
      await tx.unsafe("insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)", [m.version, m.name, m.statements]);
    });
  }
  for (const s of HAND_CHANGES as string[]) await live.unsafe(s);

  const legacy = ([...LEGACY_MIGRATIONS, HAND_CHANGED_MIGRATION] as Seed[]).map(asLocal);
  const fetched = [...legacy, ...(REMOTE_MIGRATIONS as Seed[]).map(asLocal)];

  const measure = async (label: string, local: LocalMigration[], depth: "definitions" | "names") => {
    // Fill the initdb cache once, outside the timings.
    if (depth === "definitions") await driftReport(live, local, [], { evidence: depth, judgeDefinitions: collectDefinitionEvidence });
    const times: number[] = [];
    let phases: Record<string, number> = {};
    let verdicts = "";
    for (let i = 0; i < RUNS; i++) {
      const timings: Record<string, number> = {};
      const t0 = performance.now();
      const report = await driftReport(live, local, [], { evidence: depth, judgeDefinitions: collectDefinitionEvidence, timings });
      times.push(performance.now() - t0);
      phases = timings;
      const counts = new Map<string, number>();
      for (const m of report.migrations) if (m.evidence) counts.set(m.evidence.verdict, (counts.get(m.evidence.verdict) ?? 0) + 1);
      verdicts = [...counts].map(([v, n]) => `${n} ${v}`).join(", ");
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    const detail = Object.keys(phases).length ? ` (last run: ${Object.entries(phases).map(([k, v]) => `${k} ${Math.round(v)}`).join(", ")})` : "";
    console.log(`${label}: median ${(median / 1000).toFixed(2)} s over ${RUNS} runs, min ${(times[0] / 1000).toFixed(2)} s; ${verdicts}${detail}`);
  };

  console.log(`evidence by definition, seed incident: ${legacy.length} local-only legacy files, ${REMOTE_MIGRATIONS.length} history rows, PostgreSQL 15 live, embedded shadow`);
  await measure("  first check (only the legacy files local)", legacy, "definitions");
  await measure("  after fetch (78 in_sync files replayed too)", fetched, "definitions");
  await measure("  by name only (one catalog query)", legacy, "names");
  await live.end();
} finally {
  await admin.end().catch(() => {});
  server.destroy();
  rmSync(cacheDir, { recursive: true, force: true });
}
