/**
 * The one place the CLI's dependencies come from the process: node:fs, postgres.js,
 * the standard streams, the environment, the working directory and the clock.
 * cli/main.ts calls it once; tests build their own CliDeps instead.
 */
import * as fs from "node:fs/promises";
import process from "node:process";
import { openDatabase } from "../db/connect.ts";
import type { McpDeps } from "./commands/mcp.ts";
import type { OutputStream } from "./deps.ts";

const stream = (s: NodeJS.WriteStream): OutputStream => ({
  write: (text) => void s.write(text),
  get isTTY() {
    return s.isTTY === true;
  },
  get columns() {
    return s.isTTY ? s.columns : undefined;
  },
});

/**
 * CliDeps over this process; `signal` is the caller's (main aborts it on SIGINT, SIGTERM, SIGHUP).
 * Also stdin and stdout as `drift-guard mcp`'s protocol streams, opened only when it asks.
 * @example const deps = nodeDeps(new AbortController().signal)
 */
export function nodeDeps(signal: AbortSignal): McpDeps {
  return {
    fs,
    openDatabase,
    stdout: stream(process.stdout),
    stderr: stream(process.stderr),
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
    signal,
    get protocolIn() {
      return process.stdin;
    },
    get protocolOut() {
      return process.stdout;
    },
  };
}
