/** A fresh database per test, cloned from the template that carries Supabase's roles. */
import postgres from "postgres";
import { inject } from "vitest";
import { SUPERUSER_PASSWORD } from "./postgres.ts";

const TEMPLATE_DB = "dg_template";
let counter = 0;

export function pgPort(): number {
  return inject("pg").port;
}

/** On the hosted-shaped server (the `hosted` project) postgres has its own password and is no superuser. */
export function databaseUrl(database: string, password = inject("pg").password ?? SUPERUSER_PASSWORD, user = "postgres"): string {
  return `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${pgPort()}/${database}`;
}

export interface TestDatabase {
  name: string;
  url: string;
  sql: postgres.Sql;
  drop(): Promise<void>;
}

export async function createTestDatabase(label = "t"): Promise<TestDatabase> {
  const name = `dg_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${process.pid}_${++counter}`;
  const admin = postgres(databaseUrl("postgres"), { onnotice: () => {}, max: 1 });
  await admin.unsafe(`create database "${name}" template ${inject("pg").template ?? TEMPLATE_DB}`);
  await admin.end();
  const url = databaseUrl(name);
  const sql = postgres(url, { onnotice: () => {}, max: 4 });
  return {
    name,
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 1 });
      const a = postgres(databaseUrl("postgres"), { onnotice: () => {}, max: 1 });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}
