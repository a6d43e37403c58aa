/** Report -> Markdown for a GitHub step summary. */
import type { Report } from "../types.ts";
import { DRIFT_STATES } from "../types.ts";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function formatMarkdown(report: Report): string {
  const drifted = report.migrations.filter((m) => m.state !== "in_sync");
  const out: string[] = [];
  out.push(report.status === "in_sync"
    ? `## ✅ Migrations in sync`
    : `## ❌ Migration drift: ${drifted.length} of ${report.migrations.length} differ`);
  out.push("", `| ${DRIFT_STATES.join(" | ")} |`, `|${DRIFT_STATES.map(() => "---:").join("|")}|`, `| ${DRIFT_STATES.map((s) => report.summary[s]).join(" | ")} |`);
  if (drifted.length) {
    out.push("", "| version | state | name | local | remote name |", "|---|---|---|---|---|");
    for (const m of drifted) out.push(`| \`${m.version}\` | ${m.state} | ${cell(m.name)} | ${m.local ? `\`${cell(m.local.path)}\`` : ""} | ${m.remote ? cell(m.remote.name) : ""} |`);
  }
  if (report.problems.length) {
    out.push("", "### Problems", "");
    for (const p of report.problems) out.push(`- **${p.level}** \`${cell(p.file)}\`: ${cell(p.message)}`);
  }
  if (report.actions.length) {
    out.push("", "### Fix", "");
    for (const a of report.actions) out.push(`- ${a.explain}`);
    out.push("", "```sh", ...report.actions.map((a) => a.command), "```");
  }
  out.push("", `<sub>history digest \`${report.history_digest}\`</sub>`, "");
  return out.join("\n");
}
