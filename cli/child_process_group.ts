/**
 * Running a long-lived child (the function under Deno, for `drift-guard serve`) so that it never
 * outlives this process: the child leads its own process group, a stop (`signal` aborted with the
 * name of SIGTERM, SIGINT or SIGHUP, as cli/main.ts does) is passed to the whole group, and the
 * promise settles only once the child has exited. (When this process is killed outright, the child
 * sees its parent change and stops itself: serve.ts.)
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
  /** The stop signal passed on to the group, if any. */
  stoppedBy: NodeJS.Signals | null;
}

const stopSignalOf = (reason: unknown): NodeJS.Signals =>
  (STOP_SIGNALS as readonly unknown[]).includes(reason) ? (reason as NodeJS.Signals) : "SIGTERM";

/**
 * Spawns `command` as the leader of its own process group and resolves when it exits; when `stop`
 * aborts meanwhile, its reason (a stop signal's name) goes to the group. Rejects when the command
 * cannot be started.
 *
 * @example
 *   const { code, stoppedBy } = await runChildInOwnGroup("deno", ["run", "serve.ts"], { stdio: "inherit" }, deps.signal);
 */
export function runChildInOwnGroup(command: string, args: string[], options: SpawnOptions, stop: AbortSignal): Promise<GroupChildResult> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { ...options, detached: true });
    let stoppedBy: NodeJS.Signals | null = null;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch { /* the group is already gone */ }
    };
    const forward = () => {
      stoppedBy ??= stopSignalOf(stop.reason);
      signalGroup(stoppedBy);
    };
    const cleanUp = () => {
      stop.removeEventListener("abort", forward);
      // A child that leaves grandchildren behind in its group: they go with it.
      signalGroup("SIGKILL");
    };
    stop.addEventListener("abort", forward);
    child.once("error", (err) => {
      cleanUp();
      fail(err);
    });
    child.once("spawn", () => {
      if (stop.aborted) forward();
    });
    child.once("exit", (code, signal) => {
      cleanUp();
      done({ code, signal, stoppedBy });
    });
  });
}
