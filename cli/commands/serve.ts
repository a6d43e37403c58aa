/**
 * `drift-guard serve`: the project's own supabase/functions/migration-drift,
 * served with plain Deno at http://127.0.0.1:$PORT/functions/v1/migration-drift,
 * with its database from SUPABASE_DB_URL. No Docker, no `supabase start`.
 * Deno is an optional dependency of drift-guard; only this command needs it.
 */
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Option } from "commander";
import { FUNCTION_NAME } from "../../shared/supabase_config.ts";
import { DriftGuardError, EXIT } from "../../shared/types.ts";
import { runChildInOwnGroup } from "../child_process_group.ts";
import type { CommandDefinition } from "../command.ts";
import type { CliDeps, CliFs } from "../deps.ts";
import { dbUrlOption, requireDbUrl } from "../options.ts";

export const definition: CommandDefinition = {
  name: "serve",
  description: "serve the project's supabase/functions/migration-drift locally with Deno (no Docker)",
  options: () => [
    dbUrlOption(),
    new Option("--workdir <dir>", "the project directory (the one holding supabase/)").default("."),
    new Option("--port <port>", "port on 127.0.0.1 (env: PORT)").default("54321"),
  ],
  help: `Serves http://127.0.0.1:PORT/functions/v1/migration-drift/<route>, the same routes as the deployed
function, reading the database at --db-url. Needs Deno (an optional dependency of drift-guard).`,
  exitCodes: [0, 2, 3],
  examples: [
    "SUPABASE_DB_URL=postgresql://postgres:postgres@127.0.0.1:54322/postgres npx drift-guard serve",
    "curl http://127.0.0.1:54321/functions/v1/migration-drift/health",
  ],
  // Ctrl-C stops Deno, and serve ends when Deno has.
  ownsSignals: true,
};

const exists = (fs: CliFs, path: string) => fs.access(path).then(() => true, () => false);

export interface ServeOptions {
  workdir: string;
  port: string;
  dbUrl?: string;
}

/**
 * The Deno binary: $DENO_BIN, the `deno` npm package's platform binary, or `deno` on PATH.
 * @example await denoBinary(deps) // "/repo/node_modules/@deno/linux-x64-glibc/deno"
 */
export async function denoBinary(deps: Pick<CliDeps, "env" | "fs">): Promise<string> {
  if (deps.env.DENO_BIN) return deps.env.DENO_BIN;
  const require = createRequire(import.meta.url);
  const exe = platform() === "win32" ? "deno.exe" : "deno";
  const suffixes: Record<string, Record<string, string>> = {
    linux: { x64: "linux-x64-glibc", arm64: "linux-arm64-glibc" },
    darwin: { x64: "darwin-x64", arm64: "darwin-arm64" },
    win32: { x64: "win32-x64", arm64: "win32-arm64" },
  };
  const suffix = suffixes[platform()]?.[arch()];
  if (suffix) {
    try {
      const candidate = join(dirname(require.resolve(`@deno/${suffix}/package.json`)), exe);
      if (await exists(deps.fs, candidate)) return candidate;
    } catch { /* not installed: try PATH */ }
  }
  return "deno";
}

/**
 * Runs Deno on the project's function until it exits; ends it on `deps.signal`.
 * A Deno that fails on its own is `function_exited` (exit 3), never 1 ("drift").
 * @example await run(deps, { workdir: ".", port: "54321", dbUrl })
 */
export async function run(deps: CliDeps, opts: ServeOptions): Promise<number> {
  const port = Number(opts.port);
  if (!/^[0-9]+$/.test(opts.port) || port > 65535) throw new DriftGuardError("usage", `--port must be a port number, not ${JSON.stringify(opts.port)}`);
  const fnDir = resolve(deps.cwd, opts.workdir, "supabase", "functions", FUNCTION_NAME);
  if (!(await exists(deps.fs, join(fnDir, "serve.ts")))) {
    throw new DriftGuardError("usage", `no drift-guard function at ${fnDir}`, "run `npx drift-guard init` in your project first");
  }
  const dbUrl = requireDbUrl(opts.dbUrl, "serve", { purpose: "the database the function reads", hint: "SUPABASE_DB_URL=postgresql://… npx drift-guard serve" });
  const args = ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", "--no-prompt", "--config", join(fnDir, "deno.json"), join(fnDir, "serve.ts")];
  const env = { ...deps.env, PORT: String(port), SUPABASE_DB_URL: dbUrl };
  // Deno runs in its own process group, so a stop signal reaches it (and whatever it started) and
  // serve ends only once it is gone; a stop on request is a clean exit, never 1 (drift).
  const deno = await denoBinary(deps);
  const { code, signal, stoppedBy } = await runChildInOwnGroup(deno, args, { stdio: "inherit", cwd: deps.cwd, env }, deps.signal).catch((err: Error) => {
    throw new DriftGuardError("usage", `cannot start Deno (${err.message})`, "serve needs Deno: `npm install --save-dev deno`, or set DENO_BIN");
  });
  if (stoppedBy || signal || !code) return EXIT.ok;
  throw new DriftGuardError("function_exited", `the function's Deno process exited with code ${code}`, "its own output above says why");
}
