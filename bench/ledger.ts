/**
 * npm run bench:ledger: the DDL ledger's overhead. Prints numbers, asserts nothing.
 *
 * 1,000 DDL statements (create table, add column, create index, comment, grant, rename,
 * drop, in rotation), each its own autocommit statement as psql sends them, against one
 * fresh Postgres 15: in a database without drift_guard, in one with a no-op event
 * trigger (what Postgres's event-trigger machinery costs by itself), and in one with the
 * ledger installed by `installSchema` (the same code as `drift-guard install`). They
 * alternate for BENCH_RUNS rounds (default 5); the medians are compared. Wall time and
 * the server process's CPU time are both printed: on a busy machine CPU time is steadier.
 */
import process from "node:process";
import postgres from "postgres";
import { installSchema } from "../db/install.ts";
import { startPostgres } from "../tests/harness/postgres.ts";

const STATEMENTS = Number(process.env.BENCH_DDL ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
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

/** CPU time (user + system, ms) the server process of this connection has used: steadier than wall time on a busy machine. */
async function backendCpuMs(sql: postgres.Sql): Promise<number> {
  const [{ pid }] = await sql`select pg_backend_pid() as pid`;
  const fields = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
}

async function timeRound(sql: postgres.Sql, round: number): Promise<{ wall: number; cpu: number }> {
  const statements = ddl(round);
  const cpu0 = await backendCpuMs(sql);
  const t0 = performance.now();
  for (const s of statements) await sql.unsafe(s);
  const ms = performance.now() - t0;
  const cpu = (await backendCpuMs(sql)) - cpu0;
  // 1,000 is not a multiple of 7: the last table of a round is left; drop it, untimed.
  await sql.unsafe(`do $$ declare t text; begin
    for t in select c.oid::regclass::text from pg_catalog.pg_class c where c.relname like 'bench\\_%' and c.relkind = 'r' loop
      execute 'drop table ' || t;
    end loop; end $$`);
  return { wall: ms, cpu };
}

const server = await startPostgres();
try {
  const admin = postgres(server.url(), { onnotice: () => {}, max: 1 });
  await admin.unsafe("create database bench_plain");
  await admin.unsafe("create database bench_ledger");
  await admin.unsafe("create database bench_noop");
  await admin.end();
  const plain = postgres(server.url("bench_plain"), { onnotice: () => {}, max: 1, prepare: false });
  const ledger = postgres(server.url("bench_ledger"), { onnotice: () => {}, max: 1, prepare: false });
  const noop = postgres(server.url("bench_noop"), { onnotice: () => {}, max: 1, prepare: false });
  await noop.unsafe(`create function public.noop() returns event_trigger language plpgsql as $$ begin end $$;
    create event trigger noop_ddl on ddl_command_end execute function public.noop();
    create event trigger noop_drop on sql_drop execute function public.noop();`);
  await installSchema(ledger);
  const [{ s }] = await ledger`select drift_guard.ledger_status() as s`;
  if (!s.active) throw new Error("the ledger is not active in the bench database");

  await timeRound(plain, 0); // warm up all three
  await timeRound(noop, 0);
  await timeRound(ledger, 0);
  const without: Array<{ wall: number; cpu: number }> = [];
  const withNoop: Array<{ wall: number; cpu: number }> = [];
  const withLedger: Array<{ wall: number; cpu: number }> = [];
  for (let r = 1; r <= RUNS; r++) {
    without.push(await timeRound(plain, r));
    withNoop.push(await timeRound(noop, r));
    withLedger.push(await timeRound(ledger, r));
  }
  await noop.end();
  const [{ n }] = await ledger`select count(*)::int as n from drift_guard.ddl_ledger`;
  const [{ errors }] = await ledger`select errors::int from drift_guard.ledger_health`;
  await plain.end();
  await ledger.end();

  console.log(`ledger overhead: ${STATEMENTS} DDL statements, one connection, autocommit; median of ${RUNS} rounds`);
  for (const what of ["wall", "cpu"] as const) {
    const a = median(without.map((x) => x[what]));
    const z = median(withNoop.map((x) => x[what]));
    const b = median(withLedger.map((x) => x[what]));
    const label = what === "wall" ? "wall time" : "server CPU";
    const pct = (x: number) => `${x >= a ? "+" : ""}${(((x - a) / a) * 100).toFixed(1)}%`;
    console.log(`  ${label.padEnd(10)} without ${a.toFixed(0)} ms; no-op event trigger ${z.toFixed(0)} ms (${pct(z)}); ledger ${b.toFixed(0)} ms (${pct(b)}, ${((b - a) / STATEMENTS).toFixed(3)} ms/statement)`);
  }
  console.log(`  ${n} entries recorded, ${errors} trigger errors`);
} finally {
  server.destroy();
}
