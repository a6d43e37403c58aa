/** Starts one PostgreSQL for the whole run; each test file makes its own databases from a template. */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { type PgServer, startPostgres } from "./postgres.ts";
import { markedProcesses, markTestRun, pidAlive, TEST_RUN_ENV, unmarkedEnv } from "./process_group.ts";

export const TEMPLATE_DB = "dg_template";

let server: PgServer | undefined;

/** The pool's workers (children of this process running vitest): they end with the run, after teardown starts. */
function isRunner(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("vitest");
  } catch {
    return false;
  }
}

/**
 * Fails the run when a process started by it is still alive (a server a test did not stop), after
 * killing it: every process of the run inherits DRIFT_GUARD_TEST_RUN, set before any worker starts.
 */
async function assertNoProcessLeft(runId: string): Promise<void> {
  let left = markedProcesses(runId, [process.pid]).filter((p) => !isRunner(p.pid));
  // Processes already sent a signal (a server's clean-up in a worker's exit hook) get a moment to go.
  for (let waited = 0; left.length && waited < 5_000; waited += 100) {
    await new Promise((done) => setTimeout(done, 100));
    left = left.filter((p) => pidAlive(p.pid) && !isRunner(p.pid));
  }
  if (!left.length) return;
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch { /* gone meanwhile */ }
  }
  throw new Error(`${left.length} process(es) started by this test run outlived it (killed now):\n` +
    left.map((p) => `  pid ${p.pid}: ${p.cmdline.slice(0, 300)}`).join("\n"));
}

export default async function setup(project: TestProject) {
  const { runId, owner } = markTestRun();
  // Suites run the CLI in-process from the sources, but init copies the built function (dist/): build it once, here.
  const buildScript = new URL("../../scripts/build.mjs", import.meta.url).href;
  const { buildAll, isStale } = (await import(buildScript)) as { buildAll(): Promise<void>; isStale(): boolean };
  if (isStale()) await buildAll();
  // The run's server is stopped by this teardown, before the check: it is not a test's leftover.
  server = await startPostgres({ env: unmarkedEnv() });
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
    await server?.destroy();
    try {
      if (owner) await assertNoProcessLeft(runId);
    } finally {
      rmSync(tempRoot, { recursive: true, force: true });
      if (owner) delete process.env[TEST_RUN_ENV];
    }
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    /**
     * The run's server. In the `hosted` project (hosted_global_setup.ts) it is the hosted-shaped
     * cluster: `hosted` is true, `password` is postgres's (not a superuser there), `template` the
     * database createTestDatabase clones, `adminUrl` a supabase_admin URL.
     */
    pg: { port: number; bin: string; dataDir: string; hosted?: boolean; password?: string; template?: string; adminUrl?: string };
  }
}
