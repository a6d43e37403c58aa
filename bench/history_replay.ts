/**
 * Benchmark: what verifying by replay adds to `check` for a 100-file project. Prints numbers, asserts nothing.
 *
 * "Production" is a throwaway PostgreSQL 15 with 100 migrations pushed as `supabase db push`
 * records them, except one that an agent recorded under its own version (a `moved` finding).
 * Measured in-process (db/report.ts driftReport, as `drift-guard check --db-url` runs it), with
 * evidence by definition as the CLI's default: without the replay verifier, then with it (and the
 * one replay of the repository that evidence and the verifier share). The difference is the
 * verification's cost, with the replay cache cold; then the same check with it warm. The
 * embedded shadow's initdb cache is warm.
 *
 *   deno run --allow-all --config deno.json bench/history_replay.ts
 *   BENCH_RUNS=5 …
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import postgres from "postgres";
import { collectDefinitionEvidence } from "../db/definition_evidence.ts";
import { replayRepository, verifyHistoryReplay } from "../db/history_replay.ts";
import { driftReport } from "../db/report.ts";
import { statementsChecksum } from "../shared/checksum.ts";
import type { LocalMigration } from "../shared/types.ts";
import { startPostgres } from "../tests/harness/postgres.ts";
import { SCHEMA_MIGRATIONS_DDL } from "../tests/harness/schema_migrations.ts";
import { median } from "./stats.ts";

const root = new URL("..", import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const FILES = 100;
const MOVED = 60;

const stamp = (i: number) => `2026${String(1 + Math.floor(i / 28)).padStart(2, "0")}${String(1 + (i % 28)).padStart(2, "0")}000000`;
const statementsOf = (i: number) => [
  `create table public.feature_${i} (id bigint generated always as identity primary key, note text default 'v${i}', created_at timestamptz not null default now())`,
  `alter table public.feature_${i} enable row level security`,
  `create policy "read ${i}" on public.feature_${i} for select using (true)`,
  `create index feature_${i}_created_idx on public.feature_${i} (created_at)`,
];
const local: LocalMigration[] = Array.from({ length: FILES }, (_, i) => ({
  version: stamp(i),
  name: `feature_${i}`,
  path: `supabase/migrations/${stamp(i)}_feature_${i}.sql`,
  checksum: statementsChecksum(statementsOf(i)),
  statements: statementsOf(i),
}));

const server = await startPostgres();
const admin = postgres(server.url(), { onnotice: () => {}, max: 1 });
const cacheDir = mkdtempSync(join(tmpdir(), "drift-guard-bench-cache-"));
process.env.DRIFT_GUARD_CACHE_DIR = cacheDir;
try {
  await admin.unsafe("create database bench_live");
  const live = postgres(server.url("bench_live"), { onnotice: () => {}, max: 4 });
  await live.unsafe(readFileSync(join(root, "tests/harness/supabase_roles.sql"), "utf8"));
  await live.unsafe(SCHEMA_MIGRATIONS_DDL);
  for (const [i, m] of local.entries()) {
    await live.begin(async (tx) => {
      for (const s of m.statements) await tx.unsafe(s);
      // One migration an agent ran and recorded under its own timestamp.
      const version = i === MOVED ? "20261231235959" : m.version;
      await tx.unsafe("insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)", [version, m.name, m.statements]);
    });
  }

  // Cold: the replay cache (db/shadow/replay_cache.ts) emptied before each run, as after a new build
  // or an edited file; warm: the same files checked again. The initdb cache stays warm in both.
  const forgetReplays = () => {
    for (const f of readdirSync(cacheDir)) if (f.startsWith("replay-")) rmSync(join(cacheDir, f), { force: true });
  };
  const measure = async (label: string, verify: boolean, cache: "cold" | "warm") => {
    const options = {
      evidence: "definitions" as const,
      judgeDefinitions: collectDefinitionEvidence,
      ...(verify ? { verifyReplay: verifyHistoryReplay, replayRepository } : {}),
    };
    await driftReport(live, local, [], options); // fills the initdb cache outside the timings
    const times: number[] = [];
    let summary = "";
    for (let i = 0; i < RUNS; i++) {
      if (cache === "cold") forgetReplays();
      const t0 = performance.now();
      const report = await driftReport(live, local, [], options);
      times.push(performance.now() - t0);
      summary = `${report.findings.map((f) => `${f.kind}${f.verification ? ` (${f.verification.status})` : ""}`).join(", ")}${report.replay ? `; replay: ${report.replay.status}` : ""}`;
    }
    console.log(`${label}: median ${(median(times) / 1000).toFixed(2)} s over ${RUNS} runs, min ${(Math.min(...times) / 1000).toFixed(2)} s; ${summary}`);
    return median(times);
  };

  console.log(`history replay verification: ${FILES} files, ${FILES} history rows (1 moved), PostgreSQL 15 live, embedded shadow`);
  const without = await measure("  check without the replay verifier, replay cache cold", false, "cold");
  const withIt = await measure("  check with the replay verifier, replay cache cold", true, "cold");
  console.log(`  verification adds ${((withIt - without) / 1000).toFixed(2)} s (cold)`);
  const warm = await measure("  check with the replay verifier, replay cache warm (the same files again)", true, "warm");
  console.log(`  warm: ${(warm / 1000).toFixed(2)} s`);
  await live.end();
} finally {
  await admin.end().catch(() => {});
  server.destroy();
  rmSync(cacheDir, { recursive: true, force: true });
}
