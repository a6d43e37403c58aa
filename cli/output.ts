/** How every report leaves the CLI: the chosen format, `--output FILE`, and the exit code. */
import { writeFileSync } from "node:fs";
import process from "node:process";
import type { TextStyle } from "../shared/report_formats/text.ts";
import { driftedStates } from "../shared/environments.ts";
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

/**
 * 2 when the inputs had errors, else 0 in sync and 1 on drift. With `failOn`,
 * only drift in those states exits 1 (`check --fail-on`); other drift exits 0,
 * with a note on stderr saying so.
 *
 * @example
 * reportExitCode(reportWithOnlyPending, ["remote_only", "out_of_order", "edited", "renamed"]) // => 0
 */
export function reportExitCode(
  report: { status: string; problems: ReadonlyArray<{ level: string }>; migrations?: ReadonlyArray<{ state: string }>; untracked_changes?: ReadonlyArray<unknown> },
  failOn?: readonly string[],
): number {
  if (report.problems.some((p) => p.level === "error")) return EXIT.usage;
  if (report.status === "in_sync") return EXIT.ok;
  if (!failOn) return EXIT.drift;
  const drifted = driftedStates(report);
  if (drifted.some((s) => failOn.includes(s))) return EXIT.drift;
  process.stderr.write(`drift-guard: drift only in ${[...drifted].join(", ") || "nothing --fail-on names"}, which --fail-on ${failOn.join(",")} lets pass\n`);
  return EXIT.ok;
}
