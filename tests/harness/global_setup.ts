/** Starts one PostgreSQL for the whole run; each test file makes its own databases from a template. */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { type PgServer, startPostgres } from "./postgres.ts";

export const TEMPLATE_DB = "dg_template";

let server: PgServer | undefined;

export default async function setup(project: TestProject) {
  // Suites run the CLI in-process from the sources, but init copies the built function (dist/): build it once, here.
  const buildScript = new URL("../../scripts/build.mjs", import.meta.url).href;
  const { buildAll, isStale } = (await import(buildScript)) as { buildAll(): Promise<void>; isStale(): boolean };
  if (isStale()) await buildAll();
  server = await startPostgres();
  const admin = postgres(server.url(), { onnotice: () => {} });
  await admin.unsafe(`create database ${TEMPLATE_DB}`);
  await admin.end();
  const tpl = postgres(server.url(TEMPLATE_DB), { onnotice: () => {} });
  await tpl.unsafe(readFileSync(new URL("./supabase_roles.sql", import.meta.url), "utf8"));
  await tpl.end();
  project.provide("pg", { port: server.port, bin: server.bin, dataDir: server.dataDir });
  // Every temp dir the tests and the programs they run make (projects, tarballs, shims) lands in one
  // root that goes when the run ends, even when a test failed before its own clean-up. Test workers
  // and their children inherit TMPDIR; world-writable like /tmp, since Postgres runs as another user.
  const tempRoot = mkdtempSync(join(tmpdir(), "drift-guard-test-run-"));
  chmodSync(tempRoot, 0o1777);
  const previousTmp = process.env.TMPDIR;
  process.env.TMPDIR = tempRoot;
  return async () => {
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
    rmSync(tempRoot, { recursive: true, force: true });
    await server?.destroy();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    pg: { port: number; bin: string; dataDir: string };
  }
}
