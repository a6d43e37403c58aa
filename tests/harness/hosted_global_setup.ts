/**
 * The `hosted` vitest project's server (vitest.config.ts): one hosted-shaped cluster
 * (hosted_postgres.ts) for the run, provided as `pg` exactly as global_setup.ts provides the plain
 * one, so a test file written against harness/database.ts runs unchanged as the non-superuser
 * `postgres` of a hosted project.
 */
import type { TestProject } from "vitest/node";
import { HOSTED_TEMPLATE_DB, type HostedServer, POSTGRES_PASSWORD, startHostedPostgres } from "./hosted_postgres.ts";
import { markTestRun, unmarkedEnv } from "./process_group.ts";

let hosted: HostedServer | undefined;

export default async function setup(project: TestProject) {
  markTestRun();
  hosted = await startHostedPostgres({ env: unmarkedEnv() });
  const { port, bin, dataDir } = hosted.server;
  project.provide("pg", { port, bin, dataDir, hosted: true, password: POSTGRES_PASSWORD, template: HOSTED_TEMPLATE_DB, adminUrl: hosted.adminUrl() });
  return () => hosted?.destroy();
}
