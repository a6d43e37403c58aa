/** How every report leaves the CLI: the chosen format, `--output FILE`, and the exit code. */
import { writeFileSync } from "node:fs";
import process from "node:process";
import type { TextStyle } from "../shared/report_formats/text.ts";
import { EXIT } from "../shared/types.ts";
import { terminalStyle } from "./terminal.ts";

/**
 * Prints `format` to stdout; with `output`, writes `format` to that file and
 * gives the terminal text instead.
 */
export function printReport<F extends string>(render: (format: F | "text", style?: TextStyle) => string, format: F, output?: string): void {
  if (output) {
    writeFileSync(output, render(format));
    process.stdout.write(render("text", terminalStyle()));
  } else {
    process.stdout.write(render(format, format === "text" ? terminalStyle() : undefined));
  }
}

/** 2 when the inputs had errors, else 0 in sync and 1 on drift. */
export function reportExitCode(report: { status: string; problems: ReadonlyArray<{ level: string }> }): number {
  if (report.problems.some((p) => p.level === "error")) return EXIT.usage;
  return report.status === "in_sync" ? EXIT.ok : EXIT.drift;
}
