/** SchemaDiffReport -> text, markdown, JUnit or JSON (drift-guard schema-diff). */
import type { SchemaDiffReport, SchemaDifference } from "../schema_diff.ts";
import { codeBlock, codeSpan, prose, tableCell } from "./markdown_escape.ts";
import { visible, visibleDeep } from "./text_escape.ts";
import { escapeXml } from "./xml_escape.ts";
import { alignedTable, PLAIN, type TextStyle } from "./text.ts";

export type SchemaReportFormat = "text" | "json" | "markdown" | "junit";

export function renderSchemaReport(report: SchemaDiffReport, format: SchemaReportFormat, style: TextStyle = PLAIN): string {
  switch (format) {
    case "json":
      return JSON.stringify(report, null, 2) + "\n";
    case "markdown":
      return schemaMarkdown(report);
    case "junit":
      return schemaJunit(report);
    default:
      return schemaText(report, style);
  }
}

const CHANGE_WORD = { missing: "missing", extra: "extra", changed: "changed" } as const;

function shadowLine(r: SchemaDiffReport): string {
  const pg = (v: number) => `Postgres ${Math.floor(v / 10000)}`;
  const kind = r.shadow.kind === "embedded" ? `embedded shadow (PGlite, ${pg(r.shadow.server_version_num)})` : `shadow ${pg(r.shadow.server_version_num)}`;
  return `${r.shadow.migrations} migration(s) replayed into the ${kind} in ${(r.shadow.ms / 1000).toFixed(1)} s; live is ${pg(r.live.server_version_num)}`;
}

function includes(d: SchemaDifference): string {
  return d.includes ? ` (+${d.includes} part(s))` : "";
}

export function schemaText(report: SchemaDiffReport, style: TextStyle = PLAIN): string {
  // Every name and message from the catalog is shown escaped; the suggested SQL keeps its lines (each escaped below).
  const r = { ...visibleDeep(report), suggested_migration: { ...visibleDeep(report.suggested_migration), sql: report.suggested_migration.sql } };
  const s = r.schema.summary;
  const lines: string[] = [];
  if (r.status === "in_sync") {
    lines.push(`${style.green("in sync")}: the live schema matches what the migrations build (${s.compared.actual} objects compared)`);
  } else {
    const security = s.security ? `, ${style.red(`${s.security} affect security (RLS, policies, grants)`)}` : "";
    lines.push(`${style.red(style.bold("drift"))}: ${s.differences} difference(s) between the live schema and what the migrations build` +
      ` (${s.missing} missing, ${s.extra} extra, ${s.changed} changed${security})`);
    lines.push("");
    const rows = [["", "change", "kind", "object"], ...r.schema.differences.map((d) => [d.security ? "!" : " ", CHANGE_WORD[d.change], d.kind, d.object + includes(d)])];
    const table = alignedTable(rows);
    lines.push(style.bold(table[0]));
    r.schema.differences.forEach((d, i) => {
      lines.push(d.security ? style.red(table[i + 1]) : table[i + 1]);
      lines.push(style.dim(`      ${d.message}`));
    });
    lines.push("", "missing = the migrations create it, the live database lacks it; extra = live only; changed = both, different; ! = security");
  }
  lines.push(style.dim(shadowLine(r)));
  if (r.suggested_migration.statements) {
    lines.push("", style.bold(`Suggested migration (${r.suggested_migration.statements} statement(s)) for ${r.suggested_migration.file}:`), "");
    lines.push(...r.suggested_migration.sql.trimEnd().split("\n").map((l) => `    ${visible(l)}`));
  }
  if (r.suggested_migration.notes.length) {
    lines.push("", style.bold("Notes:"));
    for (const n of r.suggested_migration.notes) lines.push(`  - ${n}`);
  }
  if (r.problems.length) {
    lines.push("", style.bold("Problems:"));
    for (const p of r.problems) lines.push(`  ${p.level === "error" ? style.red("error") : style.yellow("warning")}: ${p.file}: ${p.message}`);
  }
  return lines.join("\n") + "\n";
}


export function schemaMarkdown(r: SchemaDiffReport): string {
  const s = r.schema.summary;
  const out: string[] = ["## drift-guard schema-diff", ""];
  if (r.status === "in_sync") {
    out.push(`**In sync**: the live schema matches what the migrations build (${s.compared.actual} objects compared).`);
  } else {
    out.push(`**Drift**: ${s.differences} difference(s): ${s.missing} missing, ${s.extra} extra, ${s.changed} changed` +
      (s.security ? `, **${s.security} affect security** (RLS, policies, grants)` : "") + ".", "");
    out.push("| | change | kind | object | detail |", "|---|---|---|---|---|");
    for (const d of r.schema.differences) {
      out.push(`| ${d.security ? "⚠️" : ""} | ${d.change} | ${d.kind} | ${tableCell(codeSpan(d.object))}${includes(d)} | ${tableCell(prose(d.message))} |`);
    }
  }
  out.push("", `_${shadowLine(r)}_`);
  if (r.suggested_migration.statements) {
    out.push("", `### Suggested migration: ${codeSpan(r.suggested_migration.file ?? "")}`, "", ...codeBlock("sql", r.suggested_migration.sql.trimEnd().split("\n")));
  }
  if (r.suggested_migration.notes.length) {
    out.push("", "### Notes", "", ...r.suggested_migration.notes.map((n) => `- ${prose(n)}`));
  }
  if (r.problems.length) {
    out.push("", "### Problems", "", ...r.problems.map((p) => `- **${p.level}** ${codeSpan(p.file)}: ${prose(p.message)}`));
  }
  return out.join("\n") + "\n";
}

export function schemaJunit(r: SchemaDiffReport): string {
  const diffs = r.schema.differences;
  const cases = diffs.length
    ? diffs.map((d) => {
      const name = escapeXml(`${d.kind} ${d.object}`);
      const body = escapeXml(`${d.message}\nexpected (migrations): ${JSON.stringify(d.expected)}\nactual (live): ${JSON.stringify(d.actual)}`);
      return `    <testcase classname="drift-guard.schema.${d.kind}" name="${name}">\n      <failure type="${d.change}" message="${escapeXml(d.message)}">${body}</failure>\n    </testcase>`;
    })
    : [`    <testcase classname="drift-guard.schema" name="live schema matches the migrations"/>`];
  const errors = r.problems.filter((p) => p.level === "error");
  const tests = cases.length;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="drift-guard" tests="${tests}" failures="${diffs.length}" errors="${errors.length}">`,
    `  <testsuite name="schema drift" tests="${tests}" failures="${diffs.length}" errors="${errors.length}">`,
    ...cases,
    ...(r.suggested_migration.sql ? [`    <system-out>${escapeXml(r.suggested_migration.sql)}</system-out>`] : []),
    `  </testsuite>`,
    `</testsuites>`,
    ``,
  ].join("\n");
}
