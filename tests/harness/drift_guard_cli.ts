/**
 * Runs the real `drift-guard` bin (node bin/drift-guard.js, on Node alone) as a user would:
 * for the smoke tests of the binary (signals, the package, the README). Everything else
 * runs the CLI in-process (./cli_in_process.ts).
 */
import { spawn, spawnSync } from "node:child_process";
import { resolve } from "node:path";

export const BIN = resolve(import.meta.dirname, "../../bin/drift-guard.js");

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

const baseEnv = () => {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  delete env.SUPABASE_DB_URL;
  delete env.DRIFT_GUARD_URL;
  delete env.DRIFT_GUARD_TOKEN;
  return env;
};

export function driftGuard(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    encoding: "utf8",
    env: { ...baseEnv(), ...opts.env },
    timeout: 120_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI as a child the test can signal: `result` settles when it exits. */
export function startDriftGuard(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): { pid: number; kill(signal: NodeJS.Signals): void; result: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { ...baseEnv(), ...opts.env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const result = new Promise<CliResult>((done) => child.on("close", (code) => done({ status: code ?? -1, stdout, stderr })));
  return { pid: child.pid!, kill: (signal) => child.kill(signal), result };
}

/** The same as driftGuard, without blocking the event loop: for concurrent runs. */
export function driftGuardAsync(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return startDriftGuard(args, opts).result;
}
