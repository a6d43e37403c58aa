/**
 * `drift-guard serve`: the project's own supabase/functions/migration-drift,
 * served with plain Deno at http://127.0.0.1:$PORT/functions/v1/migration-drift,
 * with its database from SUPABASE_DB_URL. No Docker, no `supabase start`.
 * Deno is an optional dependency of drift-guard; only this command needs it.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { FUNCTION_NAME } from "../shared/supabase_config.ts";
import { DriftGuardError, EXIT } from "../shared/types.ts";
import { runChildInOwnGroup } from "./child_process_group.ts";

export interface ServeOptions {
  workdir: string;
  port: string;
  dbUrl?: string;
}

/** The Deno binary: $DENO_BIN, the `deno` npm package's platform binary, or `deno` on PATH. */
export function denoBinary(): string {
  if (process.env.DENO_BIN) return process.env.DENO_BIN;
  const require = createRequire(import.meta.url);
  const exe = process.platform === "win32" ? "deno.exe" : "deno";
  const suffixes: Record<string, Record<string, string>> = {
    linux: { x64: "linux-x64-glibc", arm64: "linux-arm64-glibc" },
    darwin: { x64: "darwin-x64", arm64: "darwin-arm64" },
    win32: { x64: "win32-x64", arm64: "win32-arm64" },
  };
  const suffix = suffixes[process.platform]?.[process.arch];
  if (suffix) {
    try {
      const candidate = join(dirname(require.resolve(`@deno/${suffix}/package.json`)), exe);
      if (existsSync(candidate)) return candidate;
    } catch { /* not installed: try PATH */ }
  }
  return "deno";
}

export function serveCommand(opts: ServeOptions): Promise<number> {
  const port = Number(opts.port);
  if (!/^[0-9]+$/.test(opts.port) || port > 65535) throw new DriftGuardError("usage", `--port must be a port number, not ${JSON.stringify(opts.port)}`);
  const fnDir = resolve(opts.workdir, "supabase", "functions", FUNCTION_NAME);
  if (!existsSync(join(fnDir, "serve.ts"))) {
    throw new DriftGuardError("usage", `no drift-guard function at ${fnDir}`, "run `npx drift-guard init` in your project first");
  }
  if (!opts.dbUrl) throw new DriftGuardError("usage", "missing --db-url (or SUPABASE_DB_URL): the database the function reads", "SUPABASE_DB_URL=postgresql://… npx drift-guard serve");
  const args = ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", "--no-prompt", "--config", join(fnDir, "deno.json"), join(fnDir, "serve.ts")];
  const env = { ...process.env, PORT: String(port), SUPABASE_DB_URL: opts.dbUrl };
  // Deno runs in its own process group, so a stop signal reaches it (and whatever it started) and
  // this process exits only once it is gone; a stop on request is a clean exit, never 1 (drift).
  return runChildInOwnGroup(denoBinary(), args, { stdio: "inherit", env }).then(
    ({ code, signal, stoppedBy }) => (stoppedBy || signal ? EXIT.ok : code ?? EXIT.ok),
    (err: Error) => {
      throw new DriftGuardError("usage", `cannot start Deno (${err.message})`, "serve needs Deno: `npm install --save-dev deno`, or set DENO_BIN");
    },
  );
}
