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
import { computeDrift, DEFAULT_MIGRATIONS_DIR, dirFlagFor } from "../shared/drift.ts";
import type { Evidence, HistoryFinding, LocalMigration, Problem, RemoteMigration, ReplayStatus, Report } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import { type LiveCatalog, liveCatalogOnce, type PlatformSettings } from "./catalog.ts";
import type { Sql } from "./connect.ts";
import { evidencePhases } from "../shared/definition_evidence.ts";
import { type CatalogSnapshot, type Comparison, schemaFilter } from "../shared/schema_diff.ts";
import { collectEvidence } from "./evidence.ts";
import { knownStatements, readHistory } from "./history.ts";
import { ledgerProblems, untrackedChanges } from "./ledger.ts";
import { notVerifiedHere, withoutReplay, withVerification } from "../shared/history_verification.ts";


/**
 * The repository replayed from zero once for a report (db/history_replay.ts replayRepository):
 * its replay status, and the shadow's catalog after the first k files for the k asked for.
 */
export interface ReplayPass {
  /** The file order replayed (shared/history_verification.ts ReplayScenario.orderKey). */
  orderKey: string;
  status: ReplayStatus;
  /** differs: the comparison with live. */
  comparison?: Comparison;
  snapshots: Map<number, CatalogSnapshot>;
  /** The first failing file's status; then no snapshot after it was read. */
  failure: ReplayStatus | null;
  /** No file failed and no missing extension was stood in for: each snapshot is what evidence by definition builds. */
  clean: boolean;
  /** The live catalog the snapshots were aligned with (view spelling), and its platform settings. */
  live: CatalogSnapshot;
  settings: PlatformSettings;
}

/** Replays the repository once for a report; passed in like the verifier, so the function never loads a shadow. */
export type RepositoryReplayer = (
  sql: Sql,
  local: readonly LocalMigration[],
  remote: readonly RemoteMigration[],
  options: { prefixes: readonly number[]; live?: () => Promise<LiveCatalog>; timings?: Record<string, number>; readText?: (path: string) => Promise<string> },
) => Promise<ReplayPass>;

export interface ReplayVerifierOptions {
  /** Wall time of each phase, for the benchmark. */
  timings?: Record<string, number>;
  /** Where the repository's migrations are: the folder a file the advice writes goes to. */
  migrationsDir?: string;
  /** The time written in a generated file's header. */
  now?: Date;
  /** The live catalog, read once per report (db/catalog.ts liveCatalogOnce). */
  live?: () => Promise<LiveCatalog>;
  /** The report's replay of the repository as it is, shared with evidence by definition. */
  pass?: () => Promise<ReplayPass>;
  /** Reads a migration file by the path the local migrations give, to name a failing statement's line. */
  readText?: (path: string) => Promise<string>;
}

/**
 * Verifies the current repository and every finding with a repair (db/history_replay.ts's
 * verifyHistoryReplay). Passed in, so the function, which has no shadow, never loads one.
 */
export type ReplayVerifier = (
  sql: Sql,
  local: readonly LocalMigration[],
  remote: readonly RemoteMigration[],
  findings: readonly HistoryFinding[],
  options?: ReplayVerifierOptions,
) => Promise<{ replay: ReplayStatus; findings: HistoryFinding[] }>;

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
  options: { migrationsDir?: string; timings?: Record<string, number>; live?: () => Promise<LiveCatalog>; pass?: () => Promise<ReplayPass> },
) => Promise<Map<string, Evidence>>;

export async function driftReport(
  sql: Sql,
  local: readonly LocalMigration[],
  problems: readonly Problem[],
  options: {
    evidence?: EvidenceDepth;
    migrationsDir?: string;
    judgeDefinitions?: DefinitionJudge;
    timings?: Record<string, number>;
    since?: Date;
    /** Replays the repository and each suggested repair from zero (db/history_replay.ts); passed in like judgeDefinitions. */
    verifyReplay?: ReplayVerifier;
    /** Replays the repository once, for both evidence and the verifier (db/history_replay.ts replayRepository). */
    replayRepository?: RepositoryReplayer;
    fileMove?: "git mv" | "mv" | ((path: string) => "git mv" | "mv");
    /** Why there is no verifyReplay, for the findings whose repairs are then not printed. */
    noReplay?: string;
    /** Reads a migration file (by its path in `local`), for the line of a statement that fails to replay. */
    readText?: (path: string) => Promise<string>;
  } = {},
): Promise<Report> {
  const remote = await readHistory(sql, knownStatements(local));
  const remoteVersions = new Set((remote ?? []).map((r) => r.version));
  const localOnly = local.filter((m) => !remoteVersions.has(m.version));
  const depth = options.evidence ?? "names";
  let evidence: Map<string, Evidence> | undefined;
  const notes: Problem[] = [];
  // Evidence and the replay compare with the same live catalog, and build from one replay of the repository.
  const live = liveCatalogOnce(sql, schemaFilter(undefined, undefined));
  // Statements left in the database (LocalMigration.statementsHash): nothing to replay or recompute here.
  const byHash = local.some((m) => m.statementsHash !== undefined);
  const replayable = remote !== null && options.verifyReplay !== undefined && options.replayRepository !== undefined && !byHash;
  let replaying: Promise<ReplayPass> | undefined;
  const pass = replayable
    ? () => (replaying ??= options.replayRepository!(sql, local, remote!, {
      live,
      timings: options.timings,
      readText: options.readText,
      prefixes: [evidencePhases(local, remoteVersions).applied.length, local.length],
    }))
    : undefined;
  if (depth && remote?.length) {
    if (depth === "definitions" && options.judgeDefinitions) {
      evidence = await options.judgeDefinitions(sql, local, localOnly, remoteVersions, { migrationsDir: options.migrationsDir, timings: options.timings, live, pass });
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
  // The statements of rows that match such a file were never read, so the digest of the history is the database's to compute.
  const historyDigest = remote && byHash
    ? (await sql<{ digest: string }[]>`select drift_guard.history_digest() as digest`)[0].digest
    : undefined;
  const report = computeDrift({ local, remote, problems: [...problems, ...notes], evidence, migrationsDir: options.migrationsDir, untracked, historyDigest, fileMove: options.fileMove });
  if (!remote) return report;
  const dirFlag = dirFlagFor(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  if (!options.verifyReplay) return notVerifiedHere(report, options.noReplay ?? "no shadow here to replay the repaired project", dirFlag);
  if (byHash) return notVerifiedHere(report, "the migrations' statements were compared by hash, not read", dirFlag);
  try {
    const verified = await options.verifyReplay(sql, local, remote, report.findings, { timings: options.timings, migrationsDir: options.migrationsDir, live, pass, readText: options.readText });
    return withVerification(report, verified.findings, verified.replay);
  } catch (err) {
    // No replay, no proof: the findings' repairs are withheld rather than printed unverified.
    if (err instanceof DriftGuardError && err.code !== "internal") throw err;
    return withoutReplay(report, `the repository could not be replayed from zero in the embedded shadow (${(err as Error).message})`);
  }
}
