/**
 * The whole-history parts of a report in every format: the replay line
 * (does the repository build from zero to what is live?) and the findings
 * (docs/whole-history.md). Strings in them come from files and the database:
 * each format escapes them with its own helpers.
 */
import type { HistoryFinding, Report } from "../types.ts";
import { codeSpan, prose } from "./markdown_escape.ts";
import { visible } from "./text_escape.ts";

/**
 * "replay: ok (12 migrations, equals live)", the first failure, or "replay: not checked".
 * @example replayLine({ ...report, replay: undefined }) // "replay: not checked (no shadow here: …)"
 */
export function replayLine(report: Report): string {
  const r = report.replay;
  if (!r) return "replay: not checked (no shadow here: drift-guard check --db-url replays the repository from zero)";
  return `replay: ${r.summary}`;
}

function findingHead(f: HistoryFinding): string {
  const what = f.kind === "moved"
    ? `history row ${f.from[0]} is file ${f.to}`
    : f.kind === "squashed"
    ? `${f.from.join(", ")} squashed into ${(f.into ?? [f.to]).join(" and ")}${f.live_migration ? ` (first write ${f.live_migration.file}: what the squash leaves live)` : ""}`
    : f.kind === "renumber"
    ? `${f.from[0]} should become ${f.to}`
    : `${f.versions.join(", ")}`;
  const verified = f.verification ? ` (verified by replay: ${f.verification.summary})` : "";
  return `${f.kind}: ${what}${f.command === null ? " (no repair offered)" : verified}`;
}

/** Text lines (escaped for the terminal). */
export function findingsText(report: Report): string[] {
  const findings = report.findings ?? [];
  if (!findings.length) return [];
  return ["", "Whole history:", ...findings.flatMap((f) => [`  ${visible(findingHead(f))}`, ...(f.command === null ? [`      ${visible(f.explain)}`] : [])])];
}

/** Markdown lines. */
export function findingsMarkdown(report: Report): string[] {
  const findings = report.findings ?? [];
  const out = report.replay ? ["", prose(replayLine(report))] : [];
  if (!findings.length) return out;
  out.push("", "### Whole history", "");
  for (const f of findings) {
    out.push(`- **${f.kind}** ${f.versions.map(codeSpan).join(", ")}: ${prose(findingHead(f))}`);
    if (f.command === null) out.push(`  - ${prose(f.explain)}`);
  }
  return out;
}

/** JUnit properties: [name, value] (xml-escaped by the caller). */
export function findingsPlain(report: Report): Array<[string, string]> {
  return [
    ...(report.replay ? [["replay", replayLine(report)] as [string, string]] : []),
    ...(report.findings ?? []).map((f, i): [string, string] => [`finding_${i + 1}`, `${findingHead(f)}${f.command === null ? `: ${f.explain}` : ""}`]),
  ];
}
