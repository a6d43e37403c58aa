/** The CliDeps of this process (cli/deps.ts): the real file system, database, streams, environment and clock. */
import * as fsPromises from "node:fs/promises";
import process from "node:process";
import { openDatabase } from "../db/connect.ts";
import type { CliDeps } from "./deps.ts";

/**
 * Built once per command run by cli/main.ts. `signal` is aborted on SIGINT, SIGTERM
 * or SIGHUP; the process then still exits as Node does by default (listening here
 * must not keep a Ctrl-C from ending a read-only command).
 *
 * @example await run(processDeps(), options)
 */
export function processDeps(): CliDeps {
  const controller = new AbortController();
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const onSignal = (signal: NodeJS.Signals) => {
    controller.abort(signal);
    for (const s of signals) process.off(s, onSignal);
    // Re-raised with no listener left: the default action ends the process as before.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  for (const s of signals) process.once(s, onSignal);
  return {
    fs: fsPromises,
    openDatabase,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
    signal: controller.signal,
  };
}
