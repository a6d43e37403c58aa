/** `drift-guard schema-diff` as the schema-diff suites run it: one embedded-shadow cache for the whole run, JSON parsed when there is some. */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliResult, driftGuard } from "./drift_guard_cli.ts";

/** One initdb cache for the whole run (the first embedded run fills it), outside $HOME. */
export const SCHEMA_DIFF_ENV = { DRIFT_GUARD_CACHE_DIR: join(tmpdir(), "drift-guard-test-pglite-cache") };

/**
 * Runs schema-diff; `json` is its parsed stdout, or null when stdout is not JSON.
 * @example schemaDiff(["--db-url", url, "--format", "json"], projectDir).json.status
 */
export function schemaDiff(args: string[], cwd: string, env: Record<string, string> = {}): CliResult & { json: any } {
  const r = driftGuard(["schema-diff", ...args], { cwd, env: { ...SCHEMA_DIFF_ENV, ...env } });
  let json: any = null;
  try {
    json = JSON.parse(r.stdout);
  } catch { /* not json */ }
  return { ...r, json };
}

/** Each difference as [change, kind, object, fields?]: what the suites compare. */
export const summaryOf = (json: any) => json.schema.differences.map((d: any) => [d.change, d.kind, d.object, ...(d.fields ? [d.fields] : [])]);
