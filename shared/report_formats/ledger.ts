/**
 * The ledger in every format: the report's `untracked_changes` section (text, markdown,
 * junit) and the `drift-guard ledger` / GET /ledger listing. Every string here comes from
 * the database and is escaped for where it goes.
 */
import { visible } from "./text_escape.ts";
import { describeApplication, describeWho, type LedgerEntry, statementPreview } from "../ledger.ts";
import type { UntrackedChange } from "../types.ts";
import { codeSpan } from "./markdown_escape.ts";
import { escapeXml } from "./xml_escape.ts";
import { alignedTable, PLAIN, type TextStyle } from "./text.ts";

/** "table public.t: 2 change(s) 2025-09-03 14:02 UTC … 14:05 UTC by postgres via psql (claimed by the client) from 10.0.0.5". */
export function untrackedSummary(g: UntrackedChange): string {
  const span = g.first_at === g.last_at ? g.first_at.slice(0, 16).replace("T", " ") : `${g.first_at.slice(0, 16).replace("T", " ")} … ${g.last_at.slice(0, 16).replace("T", " ")}`;
  return `${g.object}: ${g.changes.length} change(s) ${span} UTC by ${g.who.join("; ")}`;
}

/** Text lines for the report: one per object, with its entry ids (for `ledger ack`). */
export function untrackedText(groups: readonly UntrackedChange[], style: TextStyle = PLAIN, max = 12): string[] {
  if (!groups.length) return [];
  const lines = ["", style.red(`Untracked schema changes (ran outside any migration): ${groups.length} object(s)`)];
  for (const g of groups.slice(0, max)) {
    const ids = g.changes.map((c) => `#${c.id}`);
    lines.push(`  ${visible(untrackedSummary(g))} ${style.dim(`(${ids.length > 6 ? `${ids.slice(0, 6).join(" ")} …` : ids.join(" ")})`)}`);
  }
  if (groups.length > max) lines.push(`  … ${groups.length - max} more (drift-guard ledger --status untracked, or --format json, lists all)`);
  return lines;
}

/** Markdown lines for the report. */
export function untrackedMarkdown(groups: readonly UntrackedChange[]): string[] {
  if (!groups.length) return [];
  const out = ["", "### Untracked schema changes", "", "DDL the ledger saw that no migration recorded (drift until acknowledged):", ""];
  out.push("| object | when (UTC) | who | ids |", "|---|---|---|---|");
  const cell = (s: string) => s.replace(/\r?\n|\r/g, " ").replace(/\|/g, "\\|");
  for (const g of groups) {
    const when = g.first_at === g.last_at ? g.first_at.slice(0, 16).replace("T", " ") : `${g.first_at.slice(0, 16).replace("T", " ")} … ${g.last_at.slice(0, 16).replace("T", " ")}`;
    out.push(`| ${[codeSpan(g.object), when, g.who.map(codeSpan).join("; "), g.changes.map((c) => c.id).join(" ")].map(cell).join(" | ")} |`);
  }
  return out;
}

/** A JUnit suite with one failing testcase per object. */
export function untrackedJunit(groups: readonly UntrackedChange[]): string[] {
  if (!groups.length) return [];
  const cases = untrackedTestcases(groups);
  return [`  <testsuite name="untracked schema changes" tests="${groups.length}" failures="${groups.length}" errors="0" skipped="0">`, ...cases, `  </testsuite>`];
}

/**
 * One failing testcase per object changed outside migrations, under `classname`.
 *
 * @example untrackedTestcases(groups, "drift-guard.staging.ledger")
 */
export function untrackedTestcases(groups: readonly UntrackedChange[], classname = "drift-guard.ledger"): string[] {
  const attr = (s: string) => escapeXml(s).replace(/\t/g, "&#9;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;");
  return groups.map((g) => {
    const body = g.changes.map((c) => `#${c.id} ${c.at} ${c.command_tag}: ${statementPreview(c.statement, 400)}`).join("\n");
    return `    <testcase classname="${attr(classname)}" name="${attr(g.object)}">\n      <failure type="untracked" message="${attr(untrackedSummary(g))}">${escapeXml(body)}</failure>\n    </testcase>`;
  });
}

export type LedgerFormat = "text" | "json" | "markdown";

/** `drift-guard ledger` output. */
export function renderLedger(entries: readonly LedgerEntry[], format: LedgerFormat, style: TextStyle = PLAIN): string {
  if (format === "json") return JSON.stringify({ entries }, null, 2) + "\n";
  if (format === "markdown") {
    if (!entries.length) return "No ledger entries match.\n";
    const out = ["| id | when (UTC) | status | object | command | who | statement |", "|---:|---|---|---|---|---|---|"];
    const cell = (s: string) => s.replace(/\r?\n|\r/g, " ").replace(/\|/g, "\\|");
    for (const e of entries) {
      const who = describeWho(e);
      out.push(`| ${[e.id, e.recorded_at.slice(0, 19).replace("T", " "), statusLabel(e), codeSpan(e.object_identity ?? e.object_type ?? ""), e.command_tag,
        codeSpan(who), codeSpan(statementPreview(e.statement, 80))].map(cell).join(" | ")} |`);
    }
    return out.join("\n") + "\n";
  }
  if (!entries.length) return "no ledger entries match\n";
  const rows = [["ID", "WHEN (UTC)", "STATUS", "COMMAND", "OBJECT", "WHO", "STATEMENT"],
    ...entries.map((e) => [e.id, e.recorded_at.slice(0, 19).replace("T", " "), statusLabel(e), e.command_tag,
      visible(e.object_identity ?? e.object_type ?? ""), visible(`${e.session_user}${describeApplication(e.application_name)}${e.client_addr ? ` from ${e.client_addr}` : ""}`),
      statementPreview(e.statement, 60)])];
  const table = alignedTable(rows);
  return [style.dim(table[0]), ...table.slice(1).map((l, i) => (entries[i].status === "untracked" ? style.red(l) : l))].join("\n") + "\n";
}

function statusLabel(e: LedgerEntry): string {
  switch (e.status) {
    case "tracked":
      return `tracked ${e.tracked_by.join(",")}`;
    case "linked":
      return `linked ${e.linked_version ?? ""}`;
    default:
      return e.status;
  }
}
