/**
 * The CLI in-process: the same registration and error mapping as `bin/drift-guard.js`
 * (cli/main.ts's runCli), with in-memory stdout and stderr, the given environment and
 * working directory, the real file system and the test database. No process is spawned.
 */
import * as fs from "node:fs/promises";
import { openDatabase } from "../../db/connect.ts";
import type { CliDeps, OutputStream } from "../../cli/deps.ts";
import { runCli as runMain } from "../../cli/main.ts";

export interface InProcessResult {
  code: number;
  /** The same as `code`: what a spawned run's result calls it (tests/harness/drift_guard_cli.ts). */
  status: number;
  stdout: string;
  stderr: string;
}

const memory = (): OutputStream & { text: string } => {
  const out = { text: "", isTTY: false, write: (s: string) => void (out.text += s) };
  return out;
};

/**
 * Runs `drift-guard argv…` in this process. `env` is the whole environment the command
 * sees (plus NO_COLOR=1, as the spawned runs have), so nothing leaks in from the test runner's.
 *
 * @example const r = await runCli(["check", "--db-url", db.url, "--format", "json"], { cwd: project })
 */
export async function runCli(argv: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<InProcessResult> {
  const stdout = memory();
  const stderr = memory();
  const deps: CliDeps = {
    fs,
    openDatabase,
    stdout,
    stderr,
    env: { NO_COLOR: "1", ...opts.env },
    cwd: opts.cwd ?? process.cwd(),
    now: () => new Date(),
    signal: new AbortController().signal,
  };
  const code = await runMain(argv, deps);
  return { code, status: code, stdout: stdout.text, stderr: stderr.text };
}

/**
 * `drift-guard token create` against `dbUrl`; returns the token (the last line it prints).
 * Throws with the command's stderr when it does not exit 0.
 *
 * @example const read = await createToken(db.url, "read", "ci-read")
 */
export async function createToken(dbUrl: string, scope: string, label: string): Promise<string> {
  const r = await runCli(["token", "create", "--db-url", dbUrl, "--scope", scope, "--label", label]);
  if (r.code !== 0) throw new Error(`token create exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim().split("\n").at(-1)!;
}
