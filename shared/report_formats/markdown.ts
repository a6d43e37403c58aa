/**
 * Report -> GitHub-flavoured Markdown, for a pull request's step summary or a comment.
 *
 * Names, paths and messages come from files and from the database: names and
 * paths go in code spans, messages through prose(), commands through
 * codeBlock() (markdown_escape.ts holds every rule).
 */
import type { Report } from "../types.ts";
import { DRIFT_STATES } from "../types.ts";
import { migrationDetail } from "./detail.ts";
import { codeBlock, codeSpan, prose, tableCell } from "./markdown_escape.ts";
import { untrackedMarkdown } from "./ledger.ts";
import { findingsMarkdown } from "./history_sections.ts";

export function formatMarkdown(report: Report): string {
  const drifted = report.migrations.filter((m) => m.state !== "in_sync");
  const errors = report.problems.filter((p) => p.level === "error");
  const total = report.migrations.length;
  const out: string[] = [];

  const untracked = report.untracked_changes ?? [];
  if (report.status === "drift" && !errors.length && !untracked.length && drifted.every((m) => m.state === "pending")) {
    // Not drift anyone has to repair: new files a db push (the deploy) applies.
    out.push(`## 🕓 Only new migrations: ${drifted.length} of ${total} not applied yet (pending)`);
  } else if (report.status === "drift" && !drifted.length) out.push(`## ❌ Schema drift: ${untracked.length} object(s) changed outside any migration`);
  else if (report.status === "drift") out.push(`## ❌ Migration drift: ${drifted.length} of ${total} migration(s) differ from the history`);
  else if (errors.length) out.push(`## ⚠️ Migrations in sync, but ${errors.length} file error(s) must be fixed`);
  else out.push(`## ✅ Migrations in sync: ${total} migration(s) match the history`);

  out.push(
    "",
    `| ${DRIFT_STATES.join(" | ")} |`,
    `|${DRIFT_STATES.map(() => "---:").join("|")}|`,
    `| ${DRIFT_STATES.map((s) => report.summary[s]).join(" | ")} |`,
  );

  if (drifted.length) {
    out.push("", "| version | state | name | detail | file |", "|---|---|---|---|---|");
    for (const m of drifted) {
      const cells = [codeSpan(m.version), m.state, codeSpan(m.name), prose(migrationDetail(m, report.findings)), m.local ? codeSpan(m.local.path) : ""];
      out.push(`| ${cells.map(tableCell).join(" | ")} |`);
    }
  }

  const withEvidence = drifted.filter((m) => m.evidence && (m.evidence.objects.length || m.evidence.reason));
  if (withEvidence.length) {
    const byDefinition = withEvidence.some((m) => m.evidence!.basis === "definition");
    out.push("", "### Evidence", "", byDefinition
      ? "What each local-only migration builds (replayed in a shadow), compared with the live catalog:"
      : "What each local-only migration creates, looked up by name in the database's catalog:", "");
    for (const m of withEvidence) {
      const e = m.evidence!;
      const objects = e.objects.map((o) => `${o.state ? (o.state === "identical" ? "✓" : o.state === "missing" ? "✗" : "≠") : o.present ? "✓" : "✗"} ${o.kind} ${codeSpan(o.name)}`);
      out.push(`- ${codeSpan(m.version)}: ${e.basis === "definition" ? `**${e.verdict}** ` : ""}${objects.join(", ")}`);
      // Reasons and differences quote SQL from the database: code spans show it literally.
      if (e.reason) out.push(`  - why: ${codeSpan(e.reason)}`);
      for (const d of e.differences ?? []) out.push(`  - ${codeSpan(d)}`);
      if (e.live_migration) {
        out.push("", `  The live definitions, to save as ${codeSpan(e.live_migration.file)}:`, "", ...codeBlock("sql", e.live_migration.sql.replace(/\n$/, "").split("\n")).map((l) => `  ${l}`), "");
      }
    }
  }

  out.push(...findingsMarkdown(report));
  out.push(...untrackedMarkdown(untracked));

  if (report.problems.length) {
    out.push("", "### Problems", "");
    const ordered = [...errors, ...report.problems.filter((p) => p.level !== "error")];
    for (const p of ordered) out.push(`- **${p.level}** ${codeSpan(p.file)}: ${prose(p.message)}`);
  }

  if (report.actions.length) {
    out.push("", "### How to fix", "");
    report.actions.forEach((a, i) => {
      out.push(`${i + 1}. ${prose(a.explain)}`, "", ...codeBlock("sh", [a.command]).map((l) => `   ${l}`), "");
    });
    out.pop();
  }

  out.push("", `<sub>drift-guard check · history digest ${codeSpan(report.history_digest)}</sub>`, "");
  return out.join("\n");
}
