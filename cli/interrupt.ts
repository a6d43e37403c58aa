/**
 * Ctrl-C or a kill while a repair or undo is in flight: the database finishes
 * the statement and commits it even after this process is gone, so the user
 * must hear that it may have happened and how to find out.
 */
import type { CliDeps } from "./deps.ts";

/** Thrown when `deps.signal` aborts during a guarded write; cli/main.ts exits with OUTCOMES.interrupted. */
export class Interrupted extends Error {
  constructor(readonly signalName: string) {
    super(`interrupted (${signalName})`);
    this.name = "Interrupted";
  }
}

/**
 * Runs `write`; when `deps.signal` aborts meanwhile, prints `warning` at once and
 * rejects with Interrupted (main then ends the process; the write may still commit).
 * @example await warnIfInterrupted(deps, "the repair may have committed: run `drift-guard audit`", () => apply())
 */
export async function warnIfInterrupted<T>(deps: Pick<CliDeps, "signal" | "stderr">, warning: string, write: () => Promise<T>): Promise<T> {
  const { signal } = deps;
  let onAbort = () => {};
  const aborted = new Promise<never>((_, fail) => {
    onAbort = () => {
      const name = String(signal.reason ?? "signal");
      deps.stderr.write(`\ndrift-guard: interrupted (${name}) ${warning}\n`);
      fail(new Interrupted(name));
    };
  });
  aborted.catch(() => {});
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await Promise.race([write(), aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
