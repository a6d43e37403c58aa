/**
 * Every whole-history suggestion is proved before it is printed: the repaired
 * project (the files after the suggested file operations, the history after the
 * suggested repair) is replayed from zero, as `supabase db reset` and preview
 * branches build it, and what the applied migrations build is compared with the
 * live catalog. This module is the pure half: it builds the simulated projects
 * (scenarios) and folds the replay outcomes back into the report. The replay
 * itself is db/history_replay.ts.
 */
import { compareCodePoints } from "./checksum.ts";
import { findingActions } from "./drift.ts";
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
      history = historyAfter(history, planHistoryRepair({ squash: { rows: f.from, into: f.to! }, reason: "simulated" }, files, history).changes);
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
  const findingKinds = new Set(findingActions(findings).map((a) => a.kind));
  const others = report.actions.filter((a) => !findingKinds.has(a.kind));
  return { ...report, findings: verified, actions: [...findingActions(verified), ...others], replay };
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
