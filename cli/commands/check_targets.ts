/**
 * `drift-guard check --target NAME[=URL]… | --all-targets`: several environments
 * (databases and deployed functions, mixed) checked concurrently against the same
 * migration files, in one report. A target that cannot be checked is reported with
 * its error and does not hide the others. URLs and tokens never reach the output:
 * messages name the variable a URL came from.
 */
import { basename, dirname, join, resolve } from "node:path";
import {
  combineEnvironments,
  driftedStates,
  environmentsExitCode,
  parseFailOnTarget,
  parseTargetSpec,
  redactTarget,
  type RemoteConfig,
  type ResolvedTarget,
  resolveTargets,
  type TargetOutcome,
} from "../../shared/environments.ts";
import { parseSince } from "../../shared/ledger.ts";
import type { ParsedMigrations } from "../../shared/migration_files.ts";
import { type EnvironmentsFormat, renderEnvironments } from "../../shared/report_formats/matrix.ts";
import { readRemotes } from "../../shared/supabase_config.ts";
import { DriftGuardError } from "../../shared/types.ts";
import { databaseError } from "../../db/database_error.ts";
import { databaseReport, functionReport } from "./check.ts";
import type { CliDeps } from "../deps.ts";
import { requireFunctionTarget } from "../function_client.ts";
import { readMigrationsDir } from "../local_migrations.ts";
import { printReport } from "../output.ts";

export interface CheckTargetsOptions {
  /** `--target` values as typed: `NAME=URL` or `NAME`. */
  targets: readonly string[];
  allTargets: boolean;
  /** `--token`: for function targets without DRIFT_GUARD_TOKEN_<NAME>. */
  token?: string;
  migrations: string;
  format: EnvironmentsFormat;
  output?: string;
  evidence: boolean;
  /** `--fail-on`, for every target without its own `--fail-on-target`. */
  failOn?: readonly string[];
  /** `--fail-on-target NAME=STATE,…` values as typed. */
  failOnTarget: readonly string[];
  since?: string;
}

/** At most this many targets are checked at once: each may start an embedded shadow for its evidence. */
const CONCURRENT_TARGETS = 8;

/** supabase/config.toml of the project the migrations directory belongs to. */
function configPath(cwd: string, migrations: string): string {
  const dir = resolve(cwd, migrations);
  return basename(dir) === "migrations" && basename(dirname(dir)) === "supabase" ? join(dirname(dir), "config.toml") : join(cwd, "supabase", "config.toml");
}

async function readConfigRemotes(deps: CliDeps, migrations: string): Promise<RemoteConfig[]> {
  let text: string;
  try {
    text = await deps.fs.readFile(configPath(deps.cwd, migrations), "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return [];
    throw new DriftGuardError("bad_input", `supabase/config.toml cannot be read (${(err as { code?: string }).code ?? "error"})`, "fix its permissions, or name the targets with --target");
  }
  const remotes = readRemotes(text);
  return remotes;
}

/** The error as the report shows it: the target's URL, host and token replaced by the variable they came from. */
function shownError(err: unknown, target: ResolvedTarget): { code: string; message: string; hint?: string } {
  const e = target.kind === "database" ? databaseError(err, target.url) : err instanceof DriftGuardError ? err : databaseError(err);
  const hint = e.hint ? redactTarget(e.hint, target) : undefined;
  return { code: e.code, message: redactTarget(e.message, target), ...(hint ? { hint } : {}) };
}

async function checkOne(deps: CliDeps, target: ResolvedTarget, files: ParsedMigrations, options: CheckTargetsOptions, since: Date | undefined): Promise<TargetOutcome> {
  const base = { name: target.name, kind: target.kind, source: target.source, ...(target.tokenSource ? { tokenSource: target.tokenSource } : {}) };
  try {
    if (target.kind === "function") {
      const report = await functionReport(deps, { url: target.url.replace(/\/+$/, ""), token: target.token! }, files, options.migrations, since);
      return { ...base, report };
    }
    const sql = deps.openDatabase(target.url, { max: 1, applicationName: "drift-guard cli" });
    try {
      const report = await databaseReport(deps, sql, () => Promise.resolve(files), { evidence: options.evidence, migrationsDir: options.migrations, since });
      return { ...base, report };
    } finally {
      await sql.end({ timeout: 2 }).catch(() => {});
    }
  } catch (err) {
    return { ...base, error: shownError(err, target) };
  }
}

/** Runs `work` over `items`, at most `limit` at a time, keeping their order. */
async function bounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * Checks every target and prints one report over them; returns the exit code
 * (environmentsExitCode: 2 file errors, 3 a target not checked, 1 drift, 0 in sync).
 *
 * @example
 * await run(deps, { targets: ["production", "staging=postgresql://…"], allTargets: false, migrations: "supabase/migrations",
 *   format: "markdown", evidence: true, failOnTarget: ["production=remote_only,edited"] })
 */
export async function run(deps: CliDeps, options: CheckTargetsOptions): Promise<number> {
  const specs = options.targets.map(parseTargetSpec);
  const failOnTarget: Record<string, string[]> = {};
  for (const value of options.failOnTarget) {
    const { name, states } = parseFailOnTarget(value);
    if (failOnTarget[name]) throw new DriftGuardError("usage", `--fail-on-target ${name} is given twice`, "give each target's states once, comma-separated");
    failOnTarget[name] = states;
  }
  const remotes = options.allTargets ? await readConfigRemotes(deps, options.migrations) : [];
  const targets = resolveTargets({ specs, allTargets: options.allTargets, remotes, env: deps.env, token: options.token });
  for (const name of Object.keys(failOnTarget)) {
    if (!targets.some((t) => t.name === name)) {
      throw new DriftGuardError("usage", `--fail-on-target ${name}: no target is named ${name}`, `the targets are ${targets.map((t) => t.name).join(", ")}`);
    }
  }
  // A function URL that would send its token in the clear is bad input, found before anything is sent.
  for (const t of targets.filter((x) => x.kind === "function")) {
    try {
      requireFunctionTarget(t.url, t.token);
    } catch (err) {
      const e = err as DriftGuardError;
      throw new DriftGuardError(e.code, `target ${t.name}: ${redactTarget(e.message, t)}`, e.hint);
    }
  }
  const since = options.since ? parseSince(options.since, deps.now()) : undefined;
  // Read once for every target; paths are shown as the user gave the directory.
  const files = await readMigrationsDir(options.migrations, deps);
  const outcomes = await bounded(targets, CONCURRENT_TARGETS, (t) => checkOne(deps, t, files, options, since));
  const report = combineEnvironments(outcomes, { failOn: options.failOn, failOnTarget });

  await printReport(deps, (format, style) => renderEnvironments(report, format, style), options.format, options.output);
  const code = environmentsExitCode(report);
  const passing = report.targets.filter((t) => t.status === "drift" && !t.fails);
  for (const t of passing) {
    if (t.status === "error") continue;
    deps.stderr.write(`drift-guard: ${t.name}: drift only in ${driftedStates(t).join(", ")}, which --fail-on ${t.fail_on?.join(",")} lets pass\n`);
  }
  return code;
}
