/**
 * Report -> JUnit XML for CI test reporters.
 *
 * Suite "migration history": one testcase per migration, named <version>_<name>;
 * a drifted one has a <failure> whose type is its state, whose message says
 * what is wrong, and whose body explains it (evidence, every fix that applies,
 * with its command). Testcases with a local file carry its path in `file`, so
 * reporters can annotate it.
 * Suite "migration files" (only when there are problems): one testcase per
 * problem, an <error> for errors (the check exits 2), <skipped> for warnings.
 */
import type { Report } from "../types.ts";
import { actionsByVersion, migrationDetail } from "./detail.ts";
import { escapeXml, xmlAttr } from "./xml_escape.ts";
import { untrackedJunit } from "./ledger.ts";
import { findingsPlain } from "./history_sections.ts";

export function formatJunit(report: Report): string {
  const drifted = report.migrations.filter((m) => m.state !== "in_sync");
  const historySuite = `name="migration history" tests="${report.migrations.length}" failures="${drifted.length}" errors="0" skipped="0"`;
  const cases = migrationTestcases(report);

  const errors = report.problems.filter((p) => p.level === "error").length;
  const warnings = report.problems.length - errors;
  const problemCases = report.problems.map((p) => {
    const outcome = p.level === "error"
      ? `<error type="problem" message="${xmlAttr(p.message)}">${escapeXml(`${p.file}: ${p.message}`)}</error>`
      : `<skipped message="${xmlAttr(p.message)}"/>`;
    return `    <testcase classname="drift-guard.files" name="${xmlAttr(p.file)}" file="${xmlAttr(p.file)}">\n      ${outcome}\n    </testcase>`;
  });

  const untracked = report.untracked_changes ?? [];
  const totalTests = report.migrations.length + report.problems.length + untracked.length;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="drift-guard" tests="${totalTests}" failures="${drifted.length + untracked.length}" errors="${errors}" skipped="${warnings}">`,
    `  <testsuite ${historySuite}>`,
    `    <properties>`,
    `      <property name="status" value="${xmlAttr(report.status)}"/>`,
    `      <property name="history_digest" value="${xmlAttr(report.history_digest)}"/>`,
    ...findingsPlain(report).map(([name, value]) => `      <property name="${name}" value="${xmlAttr(value)}"/>`),
    `    </properties>`,
    ...cases,
    `  </testsuite>`,
    ...(report.problems.length
      ? [
        `  <testsuite name="migration files" tests="${report.problems.length}" failures="0" errors="${errors}" skipped="${warnings}">`,
        ...problemCases,
        `  </testsuite>`,
      ]
      : []),
    ...untrackedJunit(untracked),
    `</testsuites>`,
    ``,
  ].join("\n");
}

/**
 * One testcase per migration, a drifted one holding a failure that explains it, under
 * `classname`: the single report's suite, and each target's suite in a report over environments.
 *
 * @example migrationTestcases(report, "drift-guard.staging")[0] // '    <testcase classname="drift-guard.staging" name="20240101000000_a" file="…"/>'
 */
export function migrationTestcases(report: Report, classname = "drift-guard.migrations"): string[] {
  const fixes = actionsByVersion(report.actions);
  return report.migrations.map((m) => {
    const open = `    <testcase classname="${xmlAttr(classname)}" name="${xmlAttr(`${m.version}_${m.name}`)}"${m.local ? ` file="${xmlAttr(m.local.path)}"` : ""}`;
    if (m.state === "in_sync") return `${open}/>`;
    const detail = migrationDetail(m, report.findings);
    const body: string[] = [`${m.version} (${m.name}) is ${m.state}: ${detail}.`];
    if (m.local) body.push(`Local file: ${m.local.path}`);
    if (m.remote && m.remote.name !== m.name) body.push(`Recorded name: ${m.remote.name}`);
    if (m.evidence?.objects.length) {
      body.push(m.evidence.basis === "definition" ? `Evidence (definitions compared): ${m.evidence.verdict}` : "Evidence (catalog look-up):", ...m.evidence.objects.map((o) => `  ${o.state ?? (o.present ? "present" : "absent ")} ${o.kind} ${o.name}`), ...(m.evidence.differences ?? []).map((d) => `  - ${d}`), ...(m.evidence.reason ? [`  why: ${m.evidence.reason}`] : []));
    }
    for (const a of fixes.get(m.version) ?? []) body.push("", a.explain, `$ ${a.command}`);
    return [
      `${open}>`,
      `      <failure type="${xmlAttr(m.state)}" message="${xmlAttr(`${m.version} is ${m.state}: ${detail}`)}">${escapeXml(body.join("\n"))}</failure>`,
      `    </testcase>`,
    ].join("\n");
  });
}
