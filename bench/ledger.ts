/**
 * npm run bench:ledger: the DDL ledger's overhead. Prints numbers, asserts nothing.
 *
 * 1,000 DDL statements (create table, add column, create index, comment, grant, rename,
 * drop, in rotation), each its own autocommit statement as psql sends them, against one
 * fresh Postgres 15: in a database without drift_guard and in one with the ledger
 * installed by `installSchema` (the same code as `drift-guard install`). The two
 * alternate for BENCH_RUNS rounds (default 5); the medians are compared.
 */
import process from "node:process";
import postgres from "postgres";
import { installSchema } from "../db/install.ts";
import { startPostgres } from "../tests/harness/postgres.ts";

const STATEMENTS = Number(process.env.BENCH_DDL ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** 1,000 statements; every 7 touch a fresh table, so each round leaves nothing behind. */
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

async function timeRound(sql: postgres.Sql, round: number): Promise<number> {
  const statements = ddl(round);
  const t0 = performance.now();
  for (const s of statements) await sql.unsafe(s);
  const ms = performance.now() - t0;
  await sql.unsafe("select 1 from pg_catalog.pg_class where relname like 'bench_%'").then((rows) => {
    if (rows.length) throw new Error("a round left tables behind");
  });
  return ms;
}

const server = await startPostgres();
try {
  const admin = postgres(server.url(), { onnotice: () => {}, max: 1 });
  await admin.unsafe("create database bench_plain");
  await admin.unsafe("create database bench_ledger");
  await admin.end();
  const plain = postgres(server.url("bench_plain"), { onnotice: () => {}, max: 1, prepare: false });
  const ledger = postgres(server.url("bench_ledger"), { onnotice: () => {}, max: 1, prepare: false });
  await installSchema(ledger);
  const [{ s }] = await ledger`select drift_guard.ledger_status() as s`;
  if (!s.active) throw new Error("the ledger is not active in the bench database");

  await timeRound(plain, 0); // warm up both
  await timeRound(ledger, 0);
  const without: number[] = [];
  const withLedger: number[] = [];
  for (let r = 1; r <= RUNS; r++) {
    without.push(await timeRound(plain, r));
    withLedger.push(await timeRound(ledger, r));
  }
  const [{ n }] = await ledger`select count(*)::int as n from drift_guard.ddl_ledger`;
  const [{ errors }] = await ledger`select errors::int from drift_guard.ledger_health`;
  await plain.end();
  await ledger.end();

  const a = median(without);
  const b = median(withLedger);
  console.log(`ledger overhead: ${STATEMENTS} DDL statements, median of ${RUNS} rounds`);
  console.log(`  without the ledger: ${a.toFixed(0)} ms (${(a / STATEMENTS).toFixed(2)} ms/statement)`);
  console.log(`  with the ledger:    ${b.toFixed(0)} ms (${(b / STATEMENTS).toFixed(2)} ms/statement)`);
  console.log(`  added: ${(b - a).toFixed(0)} ms = ${(((b - a) / a) * 100).toFixed(1)}%  (${n} entries recorded, ${errors} trigger errors)`);
} finally {
  server.destroy();
}
