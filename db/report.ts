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
import { collectEvidence } from "./evidence.ts";
import { knownStatements, readHistory } from "./history.ts";
import { ledgerProblems, untrackedChanges } from "./ledger.ts";

export type EvidenceDepth = "definitions" | "names" | false;

/**
 * Compares definitions for local-only migrations: db/definition_evidence.ts's
 * collectDefinitionEvidence. Passed in rather than imported, because it needs the
 * embedded shadow (PGlite), which the deployed function must not bundle: the CLI
 * and `drift-guard serve` pass it; the hosted function has none.
 */
export type DefinitionJudge = (
  sql: Sql,
  local: readonly LocalMigration[],
  localOnly: readonly LocalMigration[],
  remoteVersions: ReadonlySet<string>,
  options: { migrationsDir?: string; timings?: Record<string, number> },
) => Promise<Map<string, Evidence>>;

export async function driftReport(
  sql: Sql,
  local: readonly LocalMigration[],
  problems: readonly Problem[],
  options: { evidence?: EvidenceDepth; migrationsDir?: string; judgeDefinitions?: DefinitionJudge; timings?: Record<string, number>; since?: Date } = {},
): Promise<Report> {
  const remote = await readHistory(sql, knownStatements(local));
  const remoteVersions = new Set((remote ?? []).map((r) => r.version));
  const localOnly = local.filter((m) => !remoteVersions.has(m.version));
  const depth = options.evidence ?? "names";
  let evidence: Map<string, Evidence> | undefined;
  const notes: Problem[] = [];
  if (depth && remote?.length) {
    if (depth === "definitions" && options.judgeDefinitions) {
      evidence = await options.judgeDefinitions(sql, local, localOnly, remoteVersions, { migrationsDir: options.migrationsDir, timings: options.timings });
    } else {
      evidence = await collectEvidence(sql, localOnly);
      if (depth === "definitions" && localOnly.length) {
        notes.push({
          level: "warning",
          file: "",
          message: "definitions were not compared: the deployed function has no embedded shadow database. Evidence is by name; run `drift-guard check --db-url` (or `drift-guard serve`) to compare definitions",
        });
      }
    }
  }
  const untracked = await untrackedChanges(sql, options.since);
  notes.push(...(await ledgerProblems(sql)));
  // Statements left in the database (LocalMigration.statementsHash) were never read for the
  // rows that match them, so the digest of the history is the database's to compute.
  const historyDigest = remote && local.some((m) => m.statementsHash !== undefined)
    ? (await sql<{ digest: string }[]>`select drift_guard.history_digest() as digest`)[0].digest
    : undefined;
  return computeDrift({ local, remote, problems: [...problems, ...notes], evidence, migrationsDir: options.migrationsDir, untracked, historyDigest });
}
