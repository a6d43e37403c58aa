/** Report -> JUnit XML: one testcase per migration, a failure for each drifted one. */
import type { Report } from "../types.ts";

export function escapeXml(s: string): string {
  // Characters XML 1.0 cannot carry at all are dropped rather than escaped.
  return s
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

export function formatJunit(report: Report): string {
  const failures = report.migrations.filter((m) => m.state !== "in_sync").length;
  const explain = new Map<string, string>();
  for (const a of report.actions) for (const v of a.versions) explain.set(v, `${a.explain}\n$ ${a.command}`);
  const cases = report.migrations.map((m) => {
    const name = escapeXml(`${m.version}_${m.name}`);
    if (m.state === "in_sync") return `    <testcase classname="drift-guard.migrations" name="${name}"/>`;
    const body = escapeXml(explain.get(m.version) ?? m.state);
    return `    <testcase classname="drift-guard.migrations" name="${name}">\n      <failure type="${m.state}" message="${escapeXml(`${m.version} is ${m.state}`)}">${body}</failure>\n    </testcase>`;
  });
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="drift-guard" tests="${report.migrations.length}" failures="${failures}">`,
    `  <testsuite name="migration history" tests="${report.migrations.length}" failures="${failures}">`,
    ...cases,
    `  </testsuite>`,
    `</testsuites>`,
    ``,
  ].join("\n");
}
