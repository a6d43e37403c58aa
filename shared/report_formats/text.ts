/** Report -> text for a person at a terminal: verdict, counts, the drifted rows, what to do next. */
import type { Evidence, Report } from "../types.ts";
import { DRIFT_STATES } from "../types.ts";
import { migrationDetail } from "./detail.ts";
import { visible as visibleLine, visibleDeep } from "./text_escape.ts";
import { untrackedText } from "./ledger.ts";
import { findingsText, replayLine } from "./history_sections.ts";

export interface TextStyle {
  bold(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  cyan(s: string): string;
}

export const PLAIN: TextStyle = { bold: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s, dim: (s) => s, cyan: (s) => s };

/** Pads to a column width, counting code points so that names with accents stay aligned. */
export function pad(s: string, width: number): string {
  return s + " ".repeat(Math.max(0, width - [...s].length));
}

export function alignedTable(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : pad(cell, widths[i]))).join("  ").trimEnd());
}

export function formatText(untrusted: Report, style: TextStyle = PLAIN): string {
  // Names, paths, messages and commands carry strings from files and the database: shown escaped, never obeyed.
  const report = visibleDeep(untrusted);
  const total = report.migrations.length;
  const warnings = report.problems.length ? `, ${report.problems.length} problem(s)` : "";
  const untracked = report.untracked_changes ?? [];
  if (report.status === "in_sync" && report.problems.length === 0) {
    // One line when in sync (scripts read it): the replay verdict goes on it.
    return `${style.green("in sync")}: ${total} migration(s) match the history (${report.history_digest.slice(0, 19)}…)${report.replay ? `; ${replayLine(report)}` : ""}\n`;
  }
  const drifted = report.migrations.filter((m) => m.state !== "in_sync");
  const lines: string[] = [];
  lines.push(
    report.status === "drift"
      ? `${style.red(style.bold("drift"))}: ${drifted.length} of ${total} migration(s) differ from the history${untracked.length ? `, ${untracked.length} object(s) changed outside migrations` : ""}${warnings}`
      : `${style.green("in sync")}: ${total} migration(s) match the history${warnings}`,
  );
  lines.push(DRIFT_STATES.map((s) => `${s} ${report.summary[s]}`).join(" · "));
  if (report.replay) lines.push(replayLine(report));
  if (drifted.length) {
    lines.push("");
    const rows = [["VERSION", "STATE", "NAME", "DETAIL"], ...drifted.map((m) => [m.version, m.state, m.name, migrationDetail(m, report.findings)])];
    const table = alignedTable(rows);
    lines.push(style.dim(table[0]), ...table.slice(1));
  }
  const withEvidence = drifted.filter((m) => m.evidence && (m.evidence.objects.length || m.evidence.reason));
  if (withEvidence.length) {
    const byDefinition = withEvidence.some((m) => m.evidence!.basis === "definition");
    lines.push("", byDefinition
      ? "Evidence (what each local-only migration builds, replayed in a shadow, compared with the live catalog):"
      : "Evidence (catalog look-up, by name, of what each local-only migration creates):");
    // The live SQL keeps its lines: each is escaped on its own (visibleDeep made its newlines `\n`).
    const liveSql = new Map(report.migrations.map((m, i) => [m, untrusted.migrations[i].evidence?.live_migration?.sql]));
    for (const m of withEvidence.slice(0, 20)) lines.push(...evidenceLines(m.version, m.evidence!, style, liveSql.get(m)));
    if (withEvidence.length > 20) lines.push(`  … ${withEvidence.length - 20} more (--format json lists all)`);
  }
  lines.push(...findingsText(report));
  lines.push(...untrackedText(untracked, style));
  if (report.problems.length) {
    lines.push("", "Problems:");
    for (const p of report.problems) lines.push(`  ${p.level === "error" ? style.red("error") : style.yellow("warning")} ${p.file}: ${p.message}`);
  }
  if (report.actions.length) {
    lines.push("", "Next:");
    report.actions.forEach((a, i) => {
      lines.push(`  ${i + 1}. ${a.explain}`);
      lines.push(`     ${style.bold(`$ ${a.command}`)}`);
    });
  }
  return lines.join("\n") + "\n";
}

/** Control characters from the database (bodies, expressions) made visible instead of acted on by the terminal. */
function visible(s: string): string {
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function evidenceLines(version: string, e: Evidence, style: TextStyle, liveSql: string | undefined): string[] {
  const objects = e.objects.map((o) => `${o.state ? (o.state === "identical" ? "✓" : o.state === "missing" ? "✗" : "≠") : o.present ? "✓" : "✗"} ${o.kind} ${o.name}`);
  const list = `${objects.slice(0, 6).join(", ")}${objects.length > 6 ? `, … ${objects.length - 6} more` : ""}`;
  if (e.basis !== "definition") return [visible(`  ${version}: ${list}`)];
  const out: string[] = [];
  const head = e.verdict === "different" ? style.red(style.bold("different")) : e.verdict === "identical" ? style.green("identical") : style.yellow(e.verdict);
  out.push(`  ${version}: ${head}${objects.length ? `: ${visible(list)}` : ""}`);
  if (e.reason) out.push(`      ${visible(`why: ${e.reason}`)}`);
  for (const d of e.differences ?? []) out.push(`      - ${visible(d)}`);
  if (e.live_migration) {
    out.push(`      The live definitions, to save as ${visible(e.live_migration.file)}:`);
    for (const l of (liveSql ?? "").replace(/\r?\n$/, "").split(/\r?\n/)) out.push(`        ${visibleLine(l)}`);
  }
  return out;
}
