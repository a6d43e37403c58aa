/**
 * A report over several environments, in every format: the version-by-environment
 * matrix (one row per version not in sync everywhere, one column per target), the
 * cross-environment findings, then each target's usual report. Versions, names and
 * paths come from files and databases and are escaped for where they go; target
 * names are identifiers (shared/environments.ts checks them).
 */
import type { CellState, CrossFinding, EnvironmentsReport, TargetEntry } from "../environments.ts";
import type { Report } from "../types.ts";
import { migrationTestcases } from "./junit.ts";
import { untrackedTestcases } from "./ledger.ts";
import { formatMarkdown } from "./markdown.ts";
import { codeSpan, prose, tableCell } from "./markdown_escape.ts";
import { alignedTable, formatText, PLAIN, type TextStyle } from "./text.ts";
import { visible } from "./text_escape.ts";
import { escapeXml, xmlAttr } from "./xml_escape.ts";

export type EnvironmentsFormat = "text" | "json" | "markdown" | "junit";

/** How a state reads in a cell: a tick for in sync, a word for everything else. */
export const CELL_LABEL: Record<CellState, string> = {
  in_sync: "✓",
  pending: "pending",
  out_of_order: "out-of-order",
  remote_only: "remote-only",
  edited: "edited",
  renamed: "renamed",
  absent: "—",
  unknown: "?",
};

/** The same in Markdown, with a sign that shows at a glance whether it needs a person. */
const MARKDOWN_CELL: Record<CellState, string> = {
  in_sync: "✓",
  pending: "🕓 pending",
  out_of_order: "⚠️ out-of-order",
  remote_only: "❌ remote-only",
  edited: "❌ edited",
  renamed: "⚠️ renamed",
  absent: "—",
  unknown: "❔",
};

type ReachedEntry = Extract<TargetEntry, { problems: unknown }>;
const reached = (t: TargetEntry): t is ReachedEntry => t.status !== "error";

/** The report part of a target's entry, as the single-target formats take it. */
function reportOf(t: ReachedEntry): Report {
  return t as unknown as Report;
}

/** "production: drift (1 pending)", "dev: in sync", "staging: not checked (unreachable)". */
function targetVerdict(t: TargetEntry): string {
  if (!reached(t)) return `${t.name}: not checked (${t.error.code})`;
  if (t.status === "in_sync") return `${t.name}: in sync`;
  const counts = Object.entries(t.summary).filter(([s, n]) => s !== "in_sync" && n > 0).map(([s, n]) => `${n} ${s}`);
  if (t.untracked_changes?.length) counts.push(`${t.untracked_changes.length} untracked`);
  return `${t.name}: drift (${counts.join(", ")})${t.fails ? "" : ", passes --fail-on"}`;
}

function headline(report: EnvironmentsReport): string {
  const n = report.targets.length;
  const drifting = report.targets.filter((t) => reached(t) && t.status === "drift").map((t) => t.name);
  const failed = report.targets.filter((t) => !reached(t)).map((t) => t.name);
  const parts: string[] = [];
  if (drifting.length) parts.push(`drift in ${drifting.length} of ${n} environment(s) (${drifting.join(", ")})`);
  if (failed.length) parts.push(`${failed.length} not checked (${failed.join(", ")})`);
  if (!parts.length) parts.push(`in sync in all ${n} environment(s)`);
  return parts.join("; ");
}

const shownRows = (report: EnvironmentsReport) => report.versions.filter((v) => Object.values(v.states).some((s) => s !== "in_sync" && s !== "unknown"));

/** What to do about a finding, in a phrase. */
function findingText(f: CrossFinding): string {
  return `${f.version} ${f.name}: ${f.explain}`;
}

/** How to point a target's suggested commands (which act on SUPABASE_DB_URL by default) at that target. */
function pointAt(t: TargetEntry): string {
  if (t.source.startsWith("--target")) return `the commands below act on one target at a time: give them this target's URL (${t.kind === "database" ? "--db-url" : "--url and --token"})`;
  if (t.kind === "database") return `run the commands below against this target with --db-url "$${t.source}"`;
  const token = t.token_source && t.token_source !== "--token" ? `"$${t.token_source}"` : "…";
  return `run the commands below against this target with --url "$${t.source}" --token ${token}`;
}

/**
 * The report over environments as text for a terminal: a headline, the matrix,
 * the findings across environments, then each target's report under its name.
 *
 * @example formatEnvironmentsText(report) // "drift in 2 of 3 environment(s) (production, staging)\nVERSION  NAME  production  staging  dev\n…"
 */
export function formatEnvironmentsText(report: EnvironmentsReport, style: TextStyle = PLAIN): string {
  const lines: string[] = [];
  const head = headline(report);
  lines.push(report.status === "in_sync" ? style.green(head) : style.red(style.bold(head)));
  lines.push(report.targets.map(targetVerdict).join(" · "));
  const rows = shownRows(report);
  if (rows.length) {
    lines.push("");
    const table = alignedTable([
      ["VERSION", "NAME", ...report.targets.map((t) => t.name)],
      ...rows.map((v) => [visible(v.version), visible(v.name), ...report.targets.map((t) => CELL_LABEL[v.states[t.name]])]),
    ]);
    lines.push(style.dim(table[0]), ...table.slice(1));
  }
  lines.push(`${rows.length ? "" : "\n"}${report.in_sync_everywhere} version(s) in sync in every environment checked`);
  if (report.findings.length) {
    lines.push("", "Across environments:");
    for (const f of report.findings) lines.push(`  ${visible(findingText(f))}`);
  }
  for (const t of report.targets) {
    lines.push("", style.bold(`== ${t.name} (${t.kind}, ${t.source}) ==`));
    if (!reached(t)) {
      lines.push(`${style.red("not checked")}: ${visible(t.error.message)}`, ...(t.error.hint ? [`hint: ${visible(t.error.hint)}`] : []));
      continue;
    }
    if (t.actions.length) lines.push(style.dim(`(${pointAt(t)})`));
    lines.push(formatText(reportOf(t), style).replace(/\n$/, ""));
  }
  return lines.join("\n") + "\n";
}

/** Headings of a target's Markdown report, two levels down, outside code fences. */
function demoteHeadings(markdown: string): string {
  let fence: string | null = null;
  return markdown.split("\n").map((line) => {
    const f = /^\s*(`{3,})/.exec(line)?.[1];
    if (f && (fence === null || f.length >= fence.length)) {
      fence = fence === null ? f : null;
      return line;
    }
    return fence === null && /^#{2,4} /.test(line) ? `##${line}` : line;
  }).join("\n");
}

function findingMarkdown(f: CrossFinding): string {
  const what = `${codeSpan(f.version)} ${codeSpan(f.name)}`;
  switch (f.kind) {
    case "not_applied":
      return `- ${what}: applied on ${f.on.join(", ")} but **not on ${f.missing_on!.join(", ")}**${f.file ? `; its file is ${codeSpan(f.file)}` : ""}`;
    case "hotfix":
      return `- ${what}: applied on ${f.on.join(", ")} only, and **no file in the repository has it** (a hotfix nobody committed): fetch it from ${f.on[0]} and commit it, or ${f.missing_on!.join(", ")} will never get it`;
    default:
      return `- ${what}: **recorded with different content**: ${f.checksums!.map((c) => `${c.targets.join(", ")} ${codeSpan(c.checksum.slice(0, 19) + "…")}${c.matches_file ? " (as the file)" : ""}`).join(" vs ")}`;
  }
}

/**
 * The report over environments as GitHub-flavoured Markdown (a job summary): the
 * verdict, the matrix, the findings across environments, then a section per target.
 *
 * @example formatEnvironmentsMarkdown(report).split("\n")[0] // "## ❌ Migration drift in 2 of 3 environment(s) (production, staging)"
 */
export function formatEnvironmentsMarkdown(report: EnvironmentsReport): string {
  const out: string[] = [];
  const icon = report.status === "in_sync" ? "✅" : report.status === "drift" ? "❌" : "⚠️";
  out.push(`## ${icon} ${report.status === "in_sync" ? "Migrations " : report.status === "drift" ? "Migration " : "Migrations: "}${headline(report)}`, "");
  out.push(`| environment | verdict |`, `|---|---|`);
  for (const t of report.targets) out.push(`| ${t.name} | ${tableCell(prose(targetVerdict(t).slice(t.name.length + 2)))} |`);
  const rows = shownRows(report);
  if (rows.length) {
    out.push("", `| version | name | ${report.targets.map((t) => t.name).join(" | ")} |`, `|---|---|${report.targets.map(() => ":-:").join("|")}|`);
    for (const v of rows) out.push(`| ${[codeSpan(v.version), codeSpan(v.name)].map(tableCell).join(" | ")} | ${report.targets.map((t) => MARKDOWN_CELL[v.states[t.name]]).join(" | ")} |`);
  }
  out.push("", `${report.in_sync_everywhere} version(s) in sync in every environment checked.`);
  if (report.findings.length) out.push("", "### Across environments", "", ...report.findings.map(findingMarkdown));
  for (const t of report.targets) {
    out.push("", `### ${t.name}`, "", `<sub>${t.kind}, from ${codeSpan(t.source)}</sub>`, "");
    if (!reached(t)) {
      out.push(`**Not checked**: ${prose(t.error.message)}${t.error.hint ? `. Hint: ${prose(t.error.hint)}` : ""}`);
      continue;
    }
    if (t.actions.length) out.push(`<sub>${prose(pointAt(t))}</sub>`, "");
    out.push(demoteHeadings(formatMarkdown(reportOf(t))).replace(/\n+$/, ""));
  }
  return out.join("\n") + "\n";
}

/**
 * The report over environments as JUnit XML: one suite per target (its migrations and
 * untracked changes; a target that could not be checked is one errored testcase), the
 * migration files' problems once, and the findings across environments as a suite of
 * testcases that carry their explanation (they pass: each target's suite holds the failures).
 *
 * @example formatEnvironmentsJunit(report) // '<?xml …?>\n<testsuites name="drift-guard" …>\n  <testsuite name="production" …>…'
 */
export function formatEnvironmentsJunit(report: EnvironmentsReport): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  let problems: Report["problems"] = [];
  for (const t of report.targets) {
    if (!reached(t)) {
      tests += 1;
      errors += 1;
      suites.push(
        `  <testsuite name="${t.name}" tests="1" failures="0" errors="1" skipped="0">`,
        `    <testcase classname="drift-guard.${t.name}" name="check ${t.name}">`,
        `      <error type="${xmlAttr(t.error.code)}" message="${xmlAttr(t.error.message)}">${escapeXml(`${t.error.message}${t.error.hint ? `\nhint: ${t.error.hint}` : ""}`)}</error>`,
        `    </testcase>`,
        `  </testsuite>`,
      );
      continue;
    }
    if (t.problems.length > problems.length) problems = t.problems;
    const untracked = t.untracked_changes ?? [];
    const drifted = t.migrations.filter((m) => m.state !== "in_sync").length + untracked.length;
    const n = t.migrations.length + untracked.length;
    tests += n;
    failures += drifted;
    suites.push(
      `  <testsuite name="${t.name}" tests="${n}" failures="${drifted}" errors="0" skipped="0">`,
      `    <properties>`,
      `      <property name="kind" value="${t.kind}"/>`,
      `      <property name="status" value="${xmlAttr(t.status)}"/>`,
      `      <property name="history_digest" value="${xmlAttr(t.history_digest)}"/>`,
      `      <property name="fails" value="${t.fails}"/>`,
      `    </properties>`,
      ...migrationTestcases(reportOf(t), `drift-guard.${t.name}`),
      ...untrackedTestcases(untracked, `drift-guard.${t.name}.ledger`),
      `  </testsuite>`,
    );
  }
  if (problems.length) {
    const errs = problems.filter((p) => p.level === "error").length;
    tests += problems.length;
    errors += errs;
    skipped += problems.length - errs;
    suites.push(
      `  <testsuite name="migration files" tests="${problems.length}" failures="0" errors="${errs}" skipped="${problems.length - errs}">`,
      ...problems.map((p) => {
        const outcome = p.level === "error"
          ? `<error type="problem" message="${xmlAttr(p.message)}">${escapeXml(`${p.file}: ${p.message}`)}</error>`
          : `<skipped message="${xmlAttr(p.message)}"/>`;
        return `    <testcase classname="drift-guard.files" name="${xmlAttr(p.file)}" file="${xmlAttr(p.file)}">\n      ${outcome}\n    </testcase>`;
      }),
      `  </testsuite>`,
    );
  }
  if (report.findings.length) {
    tests += report.findings.length;
    suites.push(
      `  <testsuite name="across environments" tests="${report.findings.length}" failures="0" errors="0" skipped="0">`,
      ...report.findings.map((f) =>
        `    <testcase classname="drift-guard.environments" name="${xmlAttr(`${f.version}_${f.name} ${f.kind}`)}"${f.file ? ` file="${xmlAttr(f.file)}"` : ""}>\n      <system-out>${escapeXml(findingText(f))}</system-out>\n    </testcase>`
      ),
      `  </testsuite>`,
    );
  }
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="drift-guard" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}">`,
    ...suites,
    `</testsuites>`,
    ``,
  ].join("\n");
}

/**
 * One entry point for every rendering of a report over environments.
 *
 * @example renderEnvironments(report, "json") // '{\n  "status": "drift",\n  "targets": [ … ],\n  "versions": [ … ] …'
 */
export function renderEnvironments(report: EnvironmentsReport, format: EnvironmentsFormat, style: TextStyle = PLAIN): string {
  switch (format) {
    case "json":
      return JSON.stringify(report, null, 2) + "\n";
    case "markdown":
      return formatEnvironmentsMarkdown(report);
    case "junit":
      return formatEnvironmentsJunit(report);
    default:
      return formatEnvironmentsText(report, style);
  }
}
