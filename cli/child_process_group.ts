/**
 * Running a long-lived child (the function under Deno, for `drift-guard serve`) so that it never
 * outlives this process: the child leads its own process group, and SIGTERM, SIGINT and SIGHUP sent
 * to this process are passed to the whole group; this process waits for the child, then resolves.
 * (When this process is killed outright, the child sees its parent change and stops itself: serve.ts.)
 */
import { spawn, type SpawnOptions } from "node:child_process";
import process from "node:process";

/** The signals a terminal, a CI runner or a supervisor sends to stop a process. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];

export interface GroupChildResult {
  /** The child's exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended the child, if any. */
  signal: NodeJS.Signals | null;
  /** The stop signal this process received and passed on, if any. */
  stoppedBy: NodeJS.Signals | null;
}

/**
 * Spawns `command` as the leader of its own process group and resolves when it exits; a stop signal
 * received meanwhile goes to the group. Rejects when the command cannot be started.
 *
 * @example
 *   const { code, stoppedBy } = await runChildInOwnGroup("deno", ["run", "serve.ts"], { stdio: "inherit" });
 */
export function runChildInOwnGroup(command: string, args: string[], options: SpawnOptions = {}): Promise<GroupChildResult> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { ...options, detached: true });
    let stoppedBy: NodeJS.Signals | null = null;
    const forward = (signal: NodeJS.Signals) => {
      stoppedBy ??= signal;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch { /* the group is already gone */ }
    };
    const cleanUp = () => {
      for (const s of STOP_SIGNALS) process.off(s, forward);
      // A child that leaves grandchildren behind in its group: they go with it.
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch { /* nothing left */ }
    };
    for (const s of STOP_SIGNALS) process.on(s, forward);
    child.once("error", (err) => {
      cleanUp();
      fail(err);
    });
    child.once("exit", (code, signal) => {
      cleanUp();
      done({ code, signal, stoppedBy });
    });
  });
}
