/**
 * The one place the CLI's dependencies come from the process: node:fs, postgres.js,
 * the standard streams, the environment, the working directory and the clock.
 * cli/main.ts calls it once; tests build their own CliDeps instead.
 */
import * as fs from "node:fs/promises";
import process from "node:process";
import { openDatabase } from "../db/connect.ts";
import type { CliDeps, OutputStream } from "./deps.ts";

const stream = (s: NodeJS.WriteStream): OutputStream => ({
  write: (text) => void s.write(text),
  get isTTY() {
    return s.isTTY === true;
  },
});

/**
 * CliDeps over this process; `signal` is the caller's (main aborts it on SIGINT, SIGTERM, SIGHUP).
 * @example const deps = nodeDeps(new AbortController().signal)
 */
export function nodeDeps(signal: AbortSignal): CliDeps {
  return {
    fs,
    openDatabase,
    stdout: stream(process.stdout),
    stderr: stream(process.stderr),
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
    signal,
  };
}
