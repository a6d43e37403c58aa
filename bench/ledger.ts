/**
 * npm run bench:ledger: the DDL ledger's overhead. Prints numbers, asserts nothing.
 *
 * 1,000 DDL statements (create table, add column, create index, comment, grant, rename,
 * drop, in rotation) in three databases of one fresh Postgres 15: without drift_guard, with a
 * no-op event trigger (what Postgres's event-trigger machinery costs by itself), and with the
 * ledger installed by `installSchema` (the same code as `drift-guard install`). Rounds run the
 * three in a shuffled order, BENCH_RUNS rounds (default 15) after one warm-up. Besides the
 * medians of each setup, each round's time is divided by the same round's time without
 * drift_guard: the median of those paired ratios is the added time, steadier than a ratio of
 * medians, because a round's setups run side by side while the machine's load drifts.
 *
 * Two ways of sending the statements:
 *   - as migrations: `supabase db push` (the real CLI) of 100 migration files of 10 statements,
 *     each file one transaction with its history row, on a durable server;
 *   - back to back, each its own autocommit statement on one local connection, as a psql
 *     script sends them: the worst case, as nothing but the statement itself is timed. Twice:
 *     on a durable server (fsync and synchronous_commit on, as hosted Supabase runs), where each
 *     commit waits for its WAL flush, and on a non-durable one (the test suite's settings),
 *     which shows the CPU cost alone. Besides wall time, the server process's CPU time
 *     (/proc/<pid>/schedstat, in ns) and the time spent inside the trigger function itself
 *     (pg_stat_user_functions): the steadiest of the three on a busy machine, as it leaves out
 *     the file-system work that dominates DDL.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import postgres from "postgres";
import { installSchema } from "../db/install.ts";
import { type PgServer, startPostgres } from "../tests/harness/postgres.ts";
import { makeProject, supabasePush } from "../tests/harness/supabase_cli.ts";
import { median } from "./stats.ts";

const STATEMENTS = Number(process.env.BENCH_DDL ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const FILE_STATEMENTS = 10;
const signed = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;

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
const SETUPS: Setup[] = ["without", "no-op event trigger", "ledger"];
const DATABASES: Record<Setup, string> = { "without": "bench_plain", "no-op event trigger": "bench_noop", "ledger": "bench_ledger" };

/** The three databases, each with one connection that counts function time. */
async function databases(server: PgServer): Promise<Record<Setup, postgres.Sql>> {
  const admin = postgres(server.url(), { onnotice: () => {}, max: 1 });
  for (const db of Object.values(DATABASES)) await admin.unsafe(`create database ${db}`);
  await admin.end();
  const open = (db: string) => postgres(server.url(db), { onnotice: () => {}, max: 1, prepare: false, connection: { track_functions: "all" } });
  const dbs = Object.fromEntries(SETUPS.map((k) => [k, open(DATABASES[k])])) as Record<Setup, postgres.Sql>;
  await dbs["no-op event trigger"].unsafe(`create function public.noop() returns event_trigger language plpgsql as $$ begin end $$;
    create event trigger noop_ddl on ddl_command_end execute function public.noop();
    create event trigger noop_drop on sql_drop execute function public.noop();`);
  await installSchema(dbs.ledger);
  const [{ s }] = await dbs.ledger`select drift_guard.ledger_status() as s`;
  if (!s.active) throw new Error("the ledger is not active in the bench database");
  return dbs;
}

/**
 * Runs round 0 (warm-up) to RUNS, the setups in a shuffled order each round, `before` ahead of
 * each round; returns rounds 1..RUNS.
 */
async function rounds<T>(run: (setup: Setup, round: number) => Promise<T>, before = (_round: number) => {}): Promise<Record<Setup, T[]>> {
  const results = Object.fromEntries(SETUPS.map((k) => [k, []])) as unknown as Record<Setup, T[]>;
  before(0);
  for (const k of SETUPS) await run(k, 0);
  for (let r = 1; r <= RUNS; r++) {
    before(r);
    // No setup always runs right after another's cleanup.
    for (const k of [...SETUPS].sort(() => Math.random() - 0.5)) results[k].push(await run(k, r));
  }
  return results;
}

async function ledgerCounts(sql: postgres.Sql): Promise<{ entries: number; tracked: number; errors: number }> {
  const [row] = await sql`select count(*)::int as entries,
    count(*) filter (where exists (select 1 from drift_guard.history_writes w where w.txid = l.txid))::int as tracked,
    (select errors::int from drift_guard.ledger_health) as errors
    from drift_guard.ddl_ledger l`;
  return row as unknown as { entries: number; tracked: number; errors: number };
}

/** Each round's time against the same round's time without drift_guard: median and range. */
function paired<T>(results: Record<Setup, T[]>, setup: Setup, value: (x: T) => number): string {
  const ratios = results[setup].map((x, i) => value(x) / value(results.without[i]) - 1);
  return `${signed(median(ratios))}, rounds ${signed(Math.min(...ratios))}..${signed(Math.max(...ratios))}`;
}

async function autocommit(durable: boolean): Promise<void> {
  const server = await startPostgres({ durable });
  try {
    const dbs = await databases(server);
    const results = await rounds((k, r) => timeRound(dbs[k], r));
    const counts = await ledgerCounts(dbs.ledger);
    for (const k of SETUPS) await dbs[k].end();
    console.log(durable ? "back to back, durable server (fsync, synchronous_commit on: as hosted Supabase runs)" : "back to back, non-durable server (fsync off: the CPU cost alone)");
    for (const what of ["wall", "cpu"] as const) {
      const [a, z, b] = SETUPS.map((k) => median(results[k].map((x) => x[what])));
      const label = what === "wall" ? "wall time" : "server CPU";
      console.log(`  ${label.padEnd(10)} without ${a.toFixed(0)} ms; no-op event trigger ${z.toFixed(0)} ms (${paired(results, "no-op event trigger", (x) => x[what])}); ledger ${b.toFixed(0)} ms (${paired(results, "ledger", (x) => x[what])}; ${(((b - a) / STATEMENTS) * 1000).toFixed(0)} µs/statement)`);
    }
    const inTrigger = median(results.ledger.map((x) => x.trigger));
    const share = (what: "wall" | "cpu") => ((inTrigger / median(results.without.map((x) => x[what]))) * 100).toFixed(1);
    console.log(`  inside the trigger function: ${inTrigger.toFixed(0)} ms (${((inTrigger / STATEMENTS) * 1000).toFixed(0)} µs/statement; ${share("wall")}% of the wall time and ${share("cpu")}% of the server CPU without it)`);
    console.log(`  ${counts.entries} entries recorded, ${counts.errors} trigger errors`);
  } finally {
    server.destroy();
  }
}

/** The round's statements as migration files of FILE_STATEMENTS, versions after the last round's. */
function writeMigrations(project: string, round: number): void {
  const statements = ddl(round);
  for (let f = 0; f * FILE_STATEMENTS < statements.length; f++) {
    const version = String(20260101000000 + round * 1000 + f);
    const body = statements.slice(f * FILE_STATEMENTS, (f + 1) * FILE_STATEMENTS).map((s) => `${s};\n`).join("");
    writeFileSync(join(project, "supabase", "migrations", `${version}_bench.sql`), body);
  }
}

async function dbPush(): Promise<void> {
  const server = await startPostgres({ durable: true });
  const project = makeProject({});
  try {
    const dbs = await databases(server);
    const results = await rounds((k) => {
      const t0 = performance.now();
      supabasePush(`${server.url(DATABASES[k])}?sslmode=disable`, project);
      return Promise.resolve(performance.now() - t0);
    }, (r) => writeMigrations(project, r));
    const counts = await ledgerCounts(dbs.ledger);
    for (const k of SETUPS) await dbs[k].end();
    const [a, z, b] = SETUPS.map((k) => median(results[k]));
    console.log(`as migrations: supabase db push of ${STATEMENTS / FILE_STATEMENTS} files of ${FILE_STATEMENTS} statements, durable server`);
    console.log(`  wall time  without ${a.toFixed(0)} ms; no-op event trigger ${z.toFixed(0)} ms (${paired(results, "no-op event trigger", (x) => x)}); ledger ${b.toFixed(0)} ms (${paired(results, "ledger", (x) => x)})`);
    console.log(`  ${counts.entries} entries recorded, ${counts.tracked} of them tracked by their migration, ${counts.errors} trigger errors`);
  } finally {
    server.destroy();
    rmSync(project, { recursive: true, force: true });
  }
}

console.log(`ledger overhead: ${STATEMENTS} DDL statements; medians of ${RUNS} rounds, and of each round's ratio to the same round without drift_guard`);
await dbPush();
await autocommit(true);
await autocommit(false);
