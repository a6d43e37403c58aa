/** The process's own dependencies, built once when a command runs: what cli/deps.ts describes. */
import * as fsPromises from "node:fs/promises";
import process from "node:process";
import { openDatabase } from "../db/connect.ts";
import type { CliDeps } from "./deps.ts";
import type { McpDeps } from "./commands/mcp.ts";

/**
 * CliDeps from this process: its file system, streams, environment, working directory,
 * clock, and a signal aborted on SIGINT, SIGTERM or SIGHUP.
 *
 * @example const deps = processDeps()
 */
export function processDeps(): CliDeps {
  const controller = new AbortController();
  for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(name, () => controller.abort(name));
  }
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

/** processDeps plus stdin and stdout as the MCP protocol's streams. @example processMcpDeps("0.1.0") */
export function processMcpDeps(version: string): McpDeps {
  return { ...processDeps(), protocolIn: process.stdin, protocolOut: process.stdout, version };
}
