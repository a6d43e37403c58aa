/** `drift-guard schema-diff` as the schema-diff suites run it (in-process): one embedded-shadow cache for the whole run, JSON parsed when there is some. */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type InProcessResult, runCli } from "./cli_in_process.ts";

/** One initdb cache for the whole run (the first embedded run fills it), outside $HOME. */
export const SCHEMA_DIFF_ENV = { DRIFT_GUARD_CACHE_DIR: join(tmpdir(), "drift-guard-test-pglite-cache") };
// db/shadow.ts reads its cache directory from the process's environment, and the command runs in this process.
process.env.DRIFT_GUARD_CACHE_DIR ??= SCHEMA_DIFF_ENV.DRIFT_GUARD_CACHE_DIR;

/**
 * Runs schema-diff; `json` is its parsed stdout, or null when stdout is not JSON.
 * @example (await schemaDiff(["--db-url", url, "--format", "json"], projectDir)).json.status
 */
export async function schemaDiff(args: string[], cwd: string, env: Record<string, string> = {}): Promise<InProcessResult & { json: any }> {
  const r = await runCli(["schema-diff", ...args], { cwd, env: { ...SCHEMA_DIFF_ENV, ...env } });
  let json: any = null;
  try {
    json = JSON.parse(r.stdout);
  } catch { /* not json */ }
  return { ...r, json };
}

/** Each difference as [change, kind, object, fields?]: what the suites compare. */
export const summaryOf = (json: any) => json.schema.differences.map((d: any) => [d.change, d.kind, d.object, ...(d.fields ? [d.fields] : [])]);
