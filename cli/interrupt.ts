/**
 * Ctrl-C or a kill while a repair or undo is in flight: the database finishes
 * the statement and commits it even after this process is gone, so the user
 * must hear that it may have happened and how to find out.
 */
import process from "node:process";
import { EXIT } from "../shared/types.ts";

/**
 * Runs `write`; on SIGINT/SIGTERM meanwhile, prints `warning` and exits 3.
 * @example await warnIfInterrupted("the repair may have committed: run `drift-guard audit`", () => apply())
 */
export async function warnIfInterrupted<T>(warning: string, write: () => Promise<T>): Promise<T> {
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\ndrift-guard: interrupted (${signal}) ${warning}\n`);
    process.exit(EXIT.unreachable);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await write();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
