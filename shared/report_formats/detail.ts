/** One sentence per drifted migration, shared by every format so that they never disagree. */
import type { Action, Evidence, HistoryFinding, MigrationEntry } from "../types.ts";

export const STATE_DETAIL: Record<string, string> = {
  edited: "file changed after it was applied",
  renamed: "same SQL, different name in history",
  pending: "not applied yet; db push applies it",
  out_of_order: "older than the newest applied; db push refuses it",
  remote_only: "applied, but no file in the repository",
};

/** What the evidence found, and what it alone would suggest. */
export const EVIDENCE_DETAIL: Record<Evidence["verdict"], (present: number, total: number) => [fact: string, advice: string]> = {
  identical: (_, n) => [`identical (${n}/${n} objects as the file builds them)`, "mark it applied"],
  different: (p, n) => [`different (${p}/${n} present, not as the file builds them)`, "record the live definitions, then mark it applied"],
  present: (p, n) => [`objects present by name (${p}/${n})`, "definitions not compared"],
  absent: (_, n) => [`objects absent (0/${n})`, "a normal db push will apply it"],
  partial: (p, n) => [`objects partly present (${p}/${n})`, "review before repairing"],
  unknown: () => ["cannot tell", "review by hand"],
};

/**
 * What is wrong with one migration, in a phrase: the state, the evidence, the recorded name.
 * A version a whole-history finding covers points at the finding, whose repair is the one to follow.
 *
 * @example migrationDetail(entry, report.findings) // "identical (1/1 objects as the file builds them): part of the squashed finding (Whole history)"
 */
export function migrationDetail(m: MigrationEntry, findings: readonly HistoryFinding[] = []): string {
  const finding = findings.find((f) => f.versions.includes(m.version));
  const evidence = m.evidence ? EVIDENCE_DETAIL[m.evidence.verdict](m.evidence.objects.filter((o) => o.present).length, m.evidence.objects.length) : null;
  let detail = finding
    ? `${evidence ? evidence[0] : STATE_DETAIL[m.state] ?? ""}: part of the ${finding.kind} finding (Whole history)`
    : evidence ? `${evidence[0]}: ${evidence[1]}` : STATE_DETAIL[m.state] ?? "";
  if (m.state === "renamed") detail += `: "${m.remote?.name}"`;
  return detail;
}

/** Every action that names a version, in report order (a version can have more than one, e.g. mark applied or push). */
export function actionsByVersion(actions: readonly Action[]): Map<string, Action[]> {
  const byVersion = new Map<string, Action[]>();
  for (const a of actions) {
    for (const v of a.versions) byVersion.set(v, [...(byVersion.get(v) ?? []), a]);
  }
  return byVersion;
}
