/**
 * npm run bench:ledger: the DDL ledger's overhead. Prints numbers, asserts nothing.
 *
 * 1,000 DDL statements (create table, add column, create index, comment, grant, rename,
 * drop, in rotation), each its own autocommit statement as psql sends them, in three
 * databases of one fresh Postgres 15: without drift_guard, with a no-op event trigger (what
 * Postgres's event-trigger machinery costs by itself), and with the ledger installed by
 * `installSchema` (the same code as `drift-guard install`). Rounds run the three in a
 * shuffled order, BENCH_RUNS rounds (default 15) after one warm-up. Besides the medians of each
 * setup, each round's ledger time is divided by the same round's time without it: the median of
 * those paired ratios is the added time, and is steadier than a ratio of medians, because a
 * round's setups run side by side while the machine's load drifts between rounds.
 *
 * Twice: on a durable server (fsync and synchronous_commit on, as hosted Supabase runs), where
 * each commit waits for its WAL flush, and on a non-durable one (the test suite's settings),
 * which shows the CPU cost alone. Wall time and the server process's CPU time
 * (/proc/<pid>/schedstat, in ns) are both printed, and the time spent inside the trigger
 * function itself (pg_stat_user_functions): the steadiest of the three on a busy machine,
 * as it leaves out the file-system work that dominates DDL.
 */
import process from "node:process";
import postgres from "postgres";
import { installSchema } from "../db/install.ts";
import { startPostgres } from "../tests/harness/postgres.ts";

const STATEMENTS = Number(process.env.BENCH_DDL ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** 1,000 statements; every 7 touch a fresh table. */
function ddl(round: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < STATEMENTS; i++) {
    const t = `public.bench_${round}_${i}`;
    out.push(
      `create table ${t} (id bigint primary key, name text)`,
      `alter table ${t} add column created_at timestamptz default now()`,
      `create index on ${t} (name)`,
      `comment on table ${t} is 'bench'`,
      `grant select on ${t} to public`,
      `alter table ${t} rename to bench_${round}_${i}_r`,
      `drop table public.bench_${round}_${i}_r`,
    );
  }
  return out.slice(0, STATEMENTS);
}

/** CPU time (ms) the server process of this connection has used, from the scheduler's ns counter. */
async function backendCpuMs(sql: postgres.Sql): Promise<number> {
  const [{ pid }] = await sql`select pg_backend_pid() as pid`;
  return Number((await Deno.readTextFile(`/proc/${pid}/schedstat`)).split(" ")[0]) / 1e6;
}

/** Time spent inside drift_guard's trigger functions this round (pg_stat_user_functions; track_functions is on for this session). */
async function triggerMs(sql: postgres.Sql): Promise<number> {
  await sql.unsafe("select pg_catalog.pg_stat_force_next_flush()");
  const [{ ms }] = await sql.unsafe(`select coalesce(sum(total_time), 0)::float8 as ms from pg_catalog.pg_stat_user_functions
    where schemaname = 'drift_guard' and funcname = 'ledger_record_ddl'`);
  return ms;
}

async function timeRound(sql: postgres.Sql, round: number): Promise<{ wall: number; cpu: number; trigger: number }> {
  const statements = ddl(round);
  await sql.unsafe("select pg_catalog.pg_stat_reset()");
  const cpu0 = await backendCpuMs(sql);
  const t0 = performance.now();
  for (const s of statements) await sql.unsafe(s);
  const ms = performance.now() - t0;
  const cpu = (await backendCpuMs(sql)) - cpu0;
  const trigger = await triggerMs(sql);
  // 1,000 is not a multiple of 7: the last table of a round is left; drop it, untimed.
  await sql.unsafe(`do $$ declare t text; begin
    for t in select c.oid::regclass::text from pg_catalog.pg_class c where c.relname like 'bench\\_%' and c.relkind = 'r' loop
      execute 'drop table ' || t;
    end loop; end $$`);
  return { wall: ms, cpu, trigger };
}

type Setup = "without" | "no-op event trigger" | "ledger";

async function measure(durable: boolean): Promise<{ results: Record<Setup, Array<{ wall: number; cpu: number; trigger: number }>>; entries: number; errors: number }> {
  const server = await startPostgres({ durable });
  try {
    const admin = postgres(server.url(), { onnotice: () => {}, max: 1 });
    for (const db of ["bench_plain", "bench_noop", "bench_ledger"]) await admin.unsafe(`create database ${db}`);
    await admin.end();
    const open = (db: string) => postgres(server.url(db), { onnotice: () => {}, max: 1, prepare: false, connection: { track_functions: "all" } });
    const dbs: Record<Setup, postgres.Sql> = { "without": open("bench_plain"), "no-op event trigger": open("bench_noop"), "ledger": open("bench_ledger") };
    await dbs["no-op event trigger"].unsafe(`create function public.noop() returns event_trigger language plpgsql as $$ begin end $$;
      create event trigger noop_ddl on ddl_command_end execute function public.noop();
      create event trigger noop_drop on sql_drop execute function public.noop();`);
    await installSchema(dbs.ledger);
    const [{ s }] = await dbs.ledger`select drift_guard.ledger_status() as s`;
    if (!s.active) throw new Error("the ledger is not active in the bench database");

    const setups = Object.keys(dbs) as Setup[];
    const results = Object.fromEntries(setups.map((k) => [k, []])) as unknown as Record<Setup, Array<{ wall: number; cpu: number; trigger: number }>>;
    for (const k of setups) await timeRound(dbs[k], 0); // warm up
    for (let r = 1; r <= RUNS; r++) {
      // A shuffled order each round: no setup always runs right after another's cleanup.
      for (const k of [...setups].sort(() => Math.random() - 0.5)) results[k].push(await timeRound(dbs[k], r));
    }
    const [{ n }] = await dbs.ledger`select count(*)::int as n from drift_guard.ddl_ledger`;
    const [{ errors }] = await dbs.ledger`select errors::int from drift_guard.ledger_health`;
    for (const k of setups) await dbs[k].end();
    return { results, entries: n, errors };
  } finally {
    server.destroy();
  }
}

console.log(`ledger overhead: ${STATEMENTS} DDL statements, one connection, autocommit; median of ${RUNS} rounds`);
for (const durable of [true, false]) {
  const { results, entries, errors } = await measure(durable);
  console.log(durable ? "durable server (fsync, synchronous_commit on: as hosted Supabase runs)" : "non-durable server (fsync off: the CPU cost alone)");
  const signed = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
  for (const what of ["wall", "cpu"] as const) {
    const [a, z, b] = (["without", "no-op event trigger", "ledger"] as const).map((k) => median(results[k].map((x) => x[what])));
    const label = what === "wall" ? "wall time" : "server CPU";
    // Each round's setup against the same round's run without: the paired ratios' median and range.
    const paired = (k: Setup) => results[k].map((x, i) => x[what] / results.without[i][what] - 1);
    const spread = (k: Setup) => `${signed(median(paired(k)))}, rounds ${signed(Math.min(...paired(k)))}..${signed(Math.max(...paired(k)))}`;
    console.log(`  ${label.padEnd(10)} without ${a.toFixed(0)} ms; no-op event trigger ${z.toFixed(0)} ms (${spread("no-op event trigger")}); ledger ${b.toFixed(0)} ms (${spread("ledger")}; ${(((b - a) / STATEMENTS) * 1000).toFixed(0)} µs/statement)`);
  }
  const inTrigger = median(results.ledger.map((x) => x.trigger));
  const share = (what: "wall" | "cpu") => ((inTrigger / median(results.without.map((x) => x[what]))) * 100).toFixed(1);
  console.log(`  inside the trigger function: ${inTrigger.toFixed(0)} ms (${((inTrigger / STATEMENTS) * 1000).toFixed(0)} µs/statement; ${share("wall")}% of the wall time and ${share("cpu")}% of the server CPU without it)`);
  console.log(`  ${entries} entries recorded, ${errors} trigger errors`);
}
