/**
 * What a command may touch. `cli/main.ts` builds one `CliDeps` from the process;
 * tests build one from a temp dir, the test database and in-memory streams, and
 * call a command's `run(deps, options)` in-process. Nothing under `cli/commands/`
 * reads `process`, `console`, `Deno` or `node:fs` directly.
 */
import type * as fsPromises from "node:fs/promises";
import type { ConnectOptions, Sql } from "../db/connect.ts";

/** The file system calls commands use (node:fs/promises' signatures). */
export type CliFs = Pick<
  typeof fsPromises,
  "readFile" | "writeFile" | "readdir" | "stat" | "lstat" | "mkdir" | "rename" | "rm" | "access" | "mkdtemp" | "realpath"
>;

/** Where a command writes: stdout for results, stderr for messages. */
export interface OutputStream {
  write(text: string): void;
  /** True on a terminal: colour and progress are shown only there. */
  readonly isTTY?: boolean;
  /** The terminal's width, when it is one: --help wraps to it (80 otherwise). */
  readonly columns?: number;
}

export interface CliDeps {
  fs: CliFs;
  /** Opens a connection pool; the caller ends it (`withDatabase` in cli/database.ts does). */
  openDatabase(url: string, options?: ConnectOptions): Sql;
  stdout: OutputStream;
  stderr: OutputStream;
  env: Readonly<Record<string, string | undefined>>;
  /** The working directory relative paths resolve against. */
  cwd: string;
  now(): Date;
  /** Aborted on SIGINT, SIGTERM or SIGHUP; `reason` is the signal's name. */
  signal: AbortSignal;
}
