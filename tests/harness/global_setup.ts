/** Starts one PostgreSQL for the whole run; each test file makes its own databases from a template. */
import { readFileSync } from "node:fs";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { type PgServer, startPostgres } from "./postgres.ts";

export const TEMPLATE_DB = "dg_template";

let server: PgServer | undefined;

export default async function setup(project: TestProject) {
  server = await startPostgres();
  const admin = postgres(server.url(), { onnotice: () => {} });
  await admin.unsafe(`create database ${TEMPLATE_DB}`);
  await admin.end();
  const tpl = postgres(server.url(TEMPLATE_DB), { onnotice: () => {} });
  await tpl.unsafe(readFileSync(new URL("./supabase_roles.sql", import.meta.url), "utf8"));
  await tpl.end();
  project.provide("pg", { port: server.port, bin: server.bin, dataDir: server.dataDir });
  return () => server?.destroy();
}

declare module "vitest" {
  export interface ProvidedContext {
    pg: { port: number; bin: string; dataDir: string };
  }
}
