/** One entry point for every rendering of a Report. */
import type { Report } from "../types.ts";
import { formatJunit } from "./junit.ts";
import { formatMarkdown } from "./markdown.ts";
import { formatText, PLAIN, type TextStyle } from "./text.ts";

export type ReportFormat = "text" | "json" | "markdown" | "junit";

export function renderReport(report: Report, format: ReportFormat, style: TextStyle = PLAIN): string {
  switch (format) {
    case "json":
      return JSON.stringify(report, null, 2) + "\n";
    case "markdown":
      return formatMarkdown(report);
    case "junit":
      return formatJunit(report);
    default:
      return formatText(report, style);
  }
}
