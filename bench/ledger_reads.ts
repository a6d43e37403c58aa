/**
 * What /status pays for the DDL ledger when the ledger is full. Prints numbers, asserts nothing.
 *
 * A ledger at its default retention (100,000 entries) and 100,000 history writes, 10 of the
 * entries untracked. Times the two reads /status makes: the cache key (ledgerFingerprint, at
 * every request) and the report's untracked changes (untrackedChanges, when the key changed).
 * Medians of BENCH_RUNS (default 9) calls each, on one connection to a fresh Postgres 15.
 */
import process from "node:process";
import postgres from "postgres";
import { installSchema } from "../db/install.ts";
import { ledgerFingerprint, ledgerRetention, untrackedChanges } from "../db/ledger.ts";
import { startPostgres } from "../tests/harness/postgres.ts";
import { median } from "./stats.ts";

const ENTRIES = 100_000;
const UNTRACKED = 10;
const RUNS = Number(process.env.BENCH_RUNS ?? 9);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

const server = await startPostgres();
try {
  const sql = postgres(server.url(), { onnotice: () => {}, max: 1, prepare: false });
  await installSchema(sql);
  // Entry i was written by transaction i; transactions 1..ENTRIES-UNTRACKED also wrote a history row.
  await sql.unsafe(`insert into drift_guard.ddl_ledger (txid, event, command_tag, object_type, object_identity, schema_name, statement, statement_length)
    select i, 'ddl_command_end', 'CREATE TABLE', 'table', 'public.t' || i, 'public', 'create table public.t' || i || ' (id bigint primary key, name text)', 60
    from pg_catalog.generate_series(1, ${ENTRIES}) i`);
  await sql.unsafe(`insert into drift_guard.history_writes (txid, op, version, session_user_name)
    select i, 'insert', (20250000000000 + i)::text, 'postgres' from pg_catalog.generate_series(1, ${ENTRIES - UNTRACKED}) i`);
  await sql.unsafe("analyze drift_guard.ddl_ledger");
  await sql.unsafe("analyze drift_guard.history_writes");
  const [{ jit }] = await sql.unsafe<{ jit: string }[]>("select pg_catalog.current_setting('jit') as jit");

  const key = await timed(() => ledgerFingerprint(sql));
  let groups = 0;
  const report = await timed(async () => (groups = (await untrackedChanges(sql)).length));
  console.log(`ledger reads: ${ENTRIES.toLocaleString("en")} entries, ${UNTRACKED} untracked (jit=${jit}); median of ${RUNS}`);
  console.log(`  /status cache key (every request): ${key.toFixed(2)} ms`);
  console.log(`  untracked changes (when the key changed): ${report.toFixed(0)} ms, ${groups} groups`);
  // The report's retention warning: at the cap, and with a tenth of the ledger past it.
  const atCap = await timed(() => ledgerRetention(sql));
  await sql.unsafe(`update drift_guard.ledger_settings set retention_rows = ${ENTRIES * 0.9}`);
  let kept = 0;
  const pastCap = await timed(async () => (kept = (await ledgerRetention(sql))!.kept_past_retention));
  console.log(`  retention check (check's warning): ${atCap.toFixed(1)} ms at the cap; ${pastCap.toFixed(1)} ms with ${(ENTRIES * 0.1).toLocaleString("en")} entries past it, ${kept} kept`);
  await sql.end();
} finally {
  server.destroy();
}
