/**
 * The drift report for a database: history + catalog evidence + the core.
 * `drift-guard check --db-url` and the function's /status and /drift both call this.
 */
import { computeDrift } from "../shared/drift.ts";
import type { LocalMigration, Problem, Report } from "../shared/types.ts";
import type { Sql } from "./connect.ts";
import { collectEvidence } from "./evidence.ts";
import { knownStatements, readHistory } from "./history.ts";
import { untrackedChanges } from "./ledger.ts";

export async function driftReport(
  sql: Sql,
  local: readonly LocalMigration[],
  problems: readonly Problem[],
  options: { evidence?: boolean; migrationsDir?: string; since?: Date } = {},
): Promise<Report> {
  const remote = await readHistory(sql, knownStatements(local));
  const remoteVersions = new Set((remote ?? []).map((r) => r.version));
  const localOnly = local.filter((m) => !remoteVersions.has(m.version));
  const evidence = options.evidence !== false && remote?.length ? await collectEvidence(sql, localOnly) : undefined;
  const untracked = await untrackedChanges(sql, options.since);
  return computeDrift({ local, remote, problems, evidence, migrationsDir: options.migrationsDir, untracked });
}
