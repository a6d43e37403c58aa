/** How every report leaves the CLI: the chosen format, `--output FILE`, and the exit code. */
import { resolve } from "node:path";
import type { TextStyle } from "../shared/report_formats/text.ts";
import { driftedStates } from "../shared/environments.ts";
import { EXIT, OUTCOMES } from "../shared/types.ts";
import type { CliDeps } from "./deps.ts";
import { terminalStyle } from "./terminal.ts";

/**
 * Prints `format` to stdout; with `output`, writes `format` to that file and
 * gives the terminal text instead.
 *
 * @example await printReport(deps, (format, style) => renderReport(report, format, style), "json")
 */
export async function printReport<F extends string>(
  deps: Pick<CliDeps, "fs" | "stdout" | "env" | "cwd">,
  render: (format: F | "text", style?: TextStyle) => string,
  format: F,
  output?: string,
): Promise<void> {
  if (output) {
    await deps.fs.writeFile(resolve(deps.cwd, output), render(format));
    deps.stdout.write(render("text", terminalStyle(deps.stdout, deps.env)));
  } else {
    deps.stdout.write(render(format, format === "text" ? terminalStyle(deps.stdout, deps.env) : undefined));
  }
}

/**
 * 2 when the inputs had errors, else 0 in sync and 1 on drift (shared/types.ts's
 * OUTCOMES). With `failOn`, only drift in those states exits 1 (`check --fail-on`);
 * other drift exits 0, with a note on `stderr` saying so.
 *
 * @example
 * reportExitCode(reportWithOnlyPending, ["remote_only", "out_of_order", "edited", "renamed"], deps.stderr) // => 0
 */
export function reportExitCode(
  report: { status: string; problems: ReadonlyArray<{ level: string }>; migrations?: ReadonlyArray<{ state: string }>; untracked_changes?: ReadonlyArray<unknown> },
  failOn: readonly string[] | undefined,
  stderr: CliDeps["stderr"],
): number {
  if (report.problems.some((p) => p.level === "error")) return EXIT.usage;
  if (report.status === "in_sync") return OUTCOMES.in_sync.exit;
  if (!failOn) return OUTCOMES.drift.exit;
  const drifted = driftedStates(report);
  if (drifted.some((s) => failOn.includes(s))) return OUTCOMES.drift.exit;
  stderr.write(`drift-guard: drift only in ${[...drifted].join(", ") || "nothing --fail-on names"}, which --fail-on ${failOn.join(",")} lets pass\n`);
  return OUTCOMES.in_sync.exit;
}
