/**
 * The drift report for a database: history + catalog evidence + the core.
 * `drift-guard check --db-url` and the function's /status and /drift both call this.
 *
 * Evidence for local-only migrations comes in two depths:
 *  - "definitions": what each migration builds (replayed in the embedded shadow) is
 *    compared with the live catalog: identical / different / absent / partial / unknown.
 *    Seconds, not milliseconds: the CLI's default, and the function's ?evidence=full.
 *  - "names": one catalog query looks the created objects up by name: present / absent /
 *    partial / unknown. "present" is not proof that the same SQL ran, so it never
 *    suggests marking a migration applied on its own.
 */
import { computeDrift } from "../shared/drift.ts";
import type { Evidence, LocalMigration, Problem, Report } from "../shared/types.ts";
import type { Sql } from "./connect.ts";
import { collectDefinitionEvidence, type DefinitionEvidenceOptions } from "./definition_evidence.ts";
import { collectEvidence } from "./evidence.ts";
import { knownStatements, readHistory } from "./history.ts";
import { untrackedChanges } from "./ledger.ts";

export type EvidenceDepth = "definitions" | "names" | false;

export async function driftReport(
  sql: Sql,
  local: readonly LocalMigration[],
  problems: readonly Problem[],
  options: { evidence?: EvidenceDepth; migrationsDir?: string; definitions?: DefinitionEvidenceOptions; since?: Date } = {},
): Promise<Report> {
  const remote = await readHistory(sql, knownStatements(local));
  const remoteVersions = new Set((remote ?? []).map((r) => r.version));
  const localOnly = local.filter((m) => !remoteVersions.has(m.version));
  const depth = options.evidence ?? "names";
  let evidence: Map<string, Evidence> | undefined;
  if (depth && remote?.length) {
    if (depth === "definitions") {
      evidence = await collectDefinitionEvidence(sql, local, localOnly, remoteVersions, { migrationsDir: options.migrationsDir, ...options.definitions });
    } else {
      evidence = await collectEvidence(sql, localOnly);
    }
  }
  const untracked = await untrackedChanges(sql, options.since);
  return computeDrift({ local, remote, problems, evidence, migrationsDir: options.migrationsDir, untracked });
}
