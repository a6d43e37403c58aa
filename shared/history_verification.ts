/**
 * Every whole-history suggestion is proved before it is printed: the repaired
 * project (the files after the suggested file operations, the history after the
 * suggested repair) is replayed from zero, as `supabase db reset` and preview
 * branches build it, and what the applied migrations build is compared with the
 * live catalog. This module is the pure half: it builds the simulated projects
 * (scenarios) and folds the replay outcomes back into the report. The replay
 * itself is db/history_replay.ts.
 */
import { compareCodePoints, splitAndChecksum } from "./checksum.ts";
import { nextVersion, squashCommand } from "./history_matching.ts";
import { type Comparison, suggestMigration } from "./schema_diff.ts";
import { withFindings } from "./drift.ts";
import { historyAfter, planHistoryRepair } from "./history_repair.ts";
import type { HistoryFinding, LocalMigration, RemoteMigration, ReplayStatus, Report } from "./types.ts";

/** A project to replay: files in version order, and which of them the history records. */
export interface ReplayScenario {
  files: LocalMigration[];
  applied: ReadonlySet<string>;
  /** Files the history records: the first `comparePrefix` files in order, or null when the recorded ones are no prefix (an unapplied file older than an applied one). */
  comparePrefix: number | null;
  /** Identifies the file order: scenarios with the same order share one replay. */
  orderKey: string;
}

/**
 * The scenario for a set of files and history rows.
 * @example scenario(local, remote).comparePrefix // 12 when all 12 files are recorded
 */
export function scenario(local: readonly LocalMigration[], history: readonly RemoteMigration[]): ReplayScenario {
  const files = [...local].sort((a, b) => compareCodePoints(a.version, b.version));
  const applied = new Set(history.map((r) => r.version));
  const k = files.filter((f) => applied.has(f.version)).length;
  const prefix = files.slice(0, k).every((f) => applied.has(f.version)) ? k : null;
  return { files, applied, comparePrefix: prefix, orderKey: files.map((f) => `${f.version}\u0000${f.checksum}`).join("\u0001") };
}

/**
 * The project after one or more findings' repairs (null for a finding without one).
 * @example simulate([movedFinding], local, remote)?.comparePrefix
 */
export function simulate(findings: readonly HistoryFinding[], local: readonly LocalMigration[], remote: readonly RemoteMigration[]): ReplayScenario | null {
  let files = [...local];
  let history = [...remote];
  for (const f of findings) {
    if (f.command === null) return null;
    if (f.kind === "moved") {
      history = historyAfter(history, planHistoryRepair({ move: { from: f.from[0], to: f.to! }, reason: "simulated" }, files, history).changes);
    } else if (f.kind === "squashed") {
      const into = f.into ?? [f.to!];
      const companion = f.live_migration && into.length === 1 ? companionMigration(f.live_migration) : null;
      if (companion) files = [...files, companion];
      const recorded = companion ? [...into, companion.version] : into;
      history = historyAfter(history, planHistoryRepair({ squash: { rows: f.from, into: recorded }, reason: "simulated" }, files, history).changes);
    } else if (f.kind === "renumber") {
      const op = f.file_ops?.[0];
      files = files.map((m) => (m.version === f.from[0] ? { ...m, version: f.to!, path: op?.to ?? m.path } : m));
    } else {
      return null;
    }
  }
  return scenario(files, history);
}

/**
 * The file `drift-guard fetch --live-definitions` would write, as a local migration.
 * @example companionMigration(finding.live_migration!).name // "record_live_definitions_20260103000000"
 */
export function companionMigration(live: NonNullable<HistoryFinding["live_migration"]>): LocalMigration {
  const { statements, checksum } = splitAndChecksum(live.sql);
  const name = live.file.slice(live.file.lastIndexOf("/") + 1).replace(/^[0-9]+_/, "").replace(/\.sql$/, "");
  return { version: live.version, name, path: live.file, checksum, statements };
}

/**
 * Folds the verification into the report: a finding whose repaired project fails to replay
 * or differs from live loses its command (the report says why); `actions` follow the findings.
 *
 * @example withVerification(report, findings, { status: "ok", migrations: 3, summary: "ok (3 migrations, equals live)" })
 */
export function withVerification(report: Report, findings: readonly HistoryFinding[], replay: ReplayStatus): Report {
  const verified = findings.map((f): HistoryFinding => {
    const v = f.verification;
    if (f.command === null || v === undefined || v.status === "ok" || v.status === "skipped") return f;
    return {
      ...f,
      command: null,
      explain: `${f.explain} NOT OFFERED: the repaired project was replayed from zero in the shadow and ${v.summary}. Nothing was suggested for these versions; ` +
        `fix what the replay names (drift-guard schema-diff shows every difference with SQL), then check again.`,
    };
  });
  return { ...withFindings(report, verified), replay };
}

/**
 * When the replay could not run (the shadow did not start): no proof, so every finding's repair is
 * withheld, with why, and the report carries the reason as a warning.
 *
 * @example withoutReplay(report, "PGlite could not start").replay?.status // "skipped"
 */
export function withoutReplay(report: Report, why: string): Report {
  const skipped: ReplayStatus = { status: "skipped", migrations: 0, summary: `not checked: ${why}` };
  const withheld = report.findings.map((f) => (f.command === null ? f : { ...f, verification: { ...skipped, status: "failed" as const } }));
  const out = withVerification(report, withheld, skipped);
  return { ...out, problems: [...out.problems, { level: "warning", file: "", message: why }] };
}

/**
 * Where no replay can run (the deployed function has no shadow; `check --no-evidence` skips it),
 * no repair is printed unproved: each finding's command is the check that proves it, and its
 * verification says why it is not verified here.
 *
 * @example notVerifiedHere(report, "the deployed function has no embedded shadow", "").findings[0].command
 *   // 'drift-guard check --db-url "$SUPABASE_DB_URL"'
 */
export function notVerifiedHere(report: Report, why: string, dirFlag: string): Report {
  if (!report.findings.some((f) => f.command !== null)) return report;
  const command = `drift-guard check${dirFlag} --db-url "$SUPABASE_DB_URL"`;
  const findings = report.findings.map((f): HistoryFinding => f.command === null ? f : {
    ...f,
    command,
    verification: { status: "skipped", migrations: 0, summary: `not verified: ${why}` },
    explain: `${f.explain} NOT VERIFIED HERE (${why}): the repair is printed only once a replay from zero of the repaired project equals live, ` +
      `which ${command} does (it needs the database URL).`,
  });
  return withFindings(report, findings);
}

/**
 * A squash whose repaired project differs from live only by objects live has and no file builds
 * (the rows built them and the squash file left them out, or the dashboard made them): the
 * migration that records them, from the live catalog, versioned right after the newest recorded
 * version so that it is recorded with the squash. A string says why there is none.
 *
 * @example squashLiveDefinitions(finding, cmp, local, remote, "supabase/migrations", new Date()).file
 *   // "supabase/migrations/20260103000001_record_live_definitions_20260103000000.sql"
 */
export function squashLiveDefinitions(
  finding: HistoryFinding,
  cmp: Comparison,
  local: readonly LocalMigration[],
  remote: readonly RemoteMigration[],
  migrationsDir: string,
  now: Date,
): NonNullable<HistoryFinding["live_migration"]> | string {
  if (finding.kind !== "squashed" || (finding.into ?? []).length > 1) return "only a squash without its live-definitions file gets one";
  const other = cmp.differences.filter((d) => d.change !== "extra");
  if (other.length) return `the replay after the squash also differs in what the files build (${other.slice(0, 3).map((d) => d.message).join("; ")})`;
  const suggested = suggestMigration({ ...cmp, all: cmp.all.filter((d) => d.change === "extra") }, now, migrationsDir);
  if (!suggested.sql) return "no SQL records what live has";
  const squash = finding.to!;
  const recorded = [...remote.map((r) => r.version).filter((v) => !finding.from.includes(v)), squash];
  const after = recorded.sort(compareCodePoints).at(-1)!;
  const version = nextVersion(after, new Set([...local.map((m) => m.version), ...remote.map((r) => r.version)]));
  const file = `${migrationsDir.replace(/\/+$/, "")}/${version}_record_live_definitions_${squash}.sql`;
  const sql = suggested.sql.replace(/^-- drift-guard schema-diff: .*$/m, `-- drift-guard: what the live database has and the squash into ${squash} does not build (${now.toISOString()}).`);
  return { file, version, sql, notes: suggested.notes.filter((n) => !/^The live database already has these changes/.test(n)) };
}

/**
 * The finding once the replay found what its squash leaves live: the first step writes that file.
 * @example withLiveDefinitionsStep(finding, live, "", leftLive, replay).command // "drift-guard fetch --live-definitions 20260103000000"
 */
export function withLiveDefinitionsStep(
  finding: HistoryFinding,
  live: NonNullable<HistoryFinding["live_migration"]>,
  dirFlag: string,
  /** What the replay after the squash alone still lacks, one line per difference. */
  leftLive: readonly string[],
  /** The replay of the squash with that file recorded. */
  verification: ReplayStatus,
): HistoryFinding {
  const [squashFile] = finding.files;
  const rows = finding.from.join(", ");
  return {
    ...finding,
    live_migration: live,
    verification,
    explain:
      `${squashFile} folds ${finding.from.length} applied migration(s) without files (${rows}) into one, but after the squash live still has what no file builds ` +
      `(${leftLive.slice(0, 3).join("; ")}${leftLive.length > 3 ? "; …" : ""}), so a fresh build would lack it. Two steps: ` +
      `1. drift-guard fetch --live-definitions ${finding.to} writes ${live.file}, which records it from the live catalog (review it); ` +
      `2. check again: it then suggests one audited repair that deletes the ${finding.from.length} row(s) and records ${finding.to} and ${live.version} (no SQL runs; drift-guard undo reverses it). ` +
      `The replay of both equals live. Fetching the rows back as files would make every fresh build run that SQL twice.`,
    command: `drift-guard fetch${dirFlag} --live-definitions ${finding.to}`,
  };
}

/**
 * A squash the replay proved needs no second file (what the rows built and the squash file does not
 * is gone live too): its command is the squash itself, not the file-writing first step.
 *
 * @example squashProven(finding, "").command // 'drift-guard repair --squash 1 2 --into 3 --reason "<why>"'
 */
export function squashProven(finding: HistoryFinding, dirFlag: string): HistoryFinding {
  if (finding.kind !== "squashed" || finding.live_migration || finding.verification?.status !== "ok" || finding.command?.startsWith("drift-guard repair")) return finding;
  return {
    ...finding,
    command: squashCommand(dirFlag, finding.from, finding.into ?? [finding.to!]),
    explain: `${finding.explain} The replay shows none of it is left live (a later migration dropped it): the squash alone equals live.`,
  };
}
