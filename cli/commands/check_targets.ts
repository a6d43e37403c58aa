/**
 * `drift-guard check --target NAME[=URL]… | --all-targets`: several environments
 * (databases and deployed functions, mixed) checked concurrently against the same
 * migration files, in one report. A target that cannot be checked is reported with
 * its error and does not hide the others. URLs and tokens never reach the output:
 * messages name the variable a URL came from.
 */
import { basename, dirname, join, resolve, sep } from "node:path";
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
import { PLAIN, type TextStyle } from "../../shared/report_formats/text.ts";
import { readRemotes } from "../../shared/supabase_config.ts";
import { DriftGuardError } from "../../shared/types.ts";
import { databaseError } from "../../db/database_error.ts";
import { databaseReport, functionReport } from "../check.ts";
import type { CliDeps } from "../deps.ts";
import { requireFunctionTarget } from "../function_client.ts";
import { readMigrationsDir } from "../local_migrations.ts";

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

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

function styleFor(deps: CliDeps): TextStyle {
  if (!deps.stdout.isTTY || deps.env.NO_COLOR) return PLAIN;
  return { bold: sgr(1, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), dim: sgr(2, 22) };
}

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

/** The migration files, read once for every target, with paths shown as the user gave the directory. */
async function readFiles(deps: CliDeps, migrations: string): Promise<ParsedMigrations> {
  const absolute = resolve(deps.cwd, migrations);
  const parsed = await readMigrationsDir(absolute);
  const shown = (path: string) => (path === absolute ? migrations : path.startsWith(absolute + sep) ? join(migrations, path.slice(absolute.length + 1)) : path);
  return {
    migrations: parsed.migrations.map((m) => ({ ...m, path: shown(m.path) })),
    problems: parsed.problems.map((p) => ({ ...p, file: shown(p.file), message: p.message.split(absolute).join(migrations) })),
  };
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
      const report = await functionReport({ url: target.url.replace(/\/+$/, ""), token: target.token! }, files, resolve(deps.cwd, options.migrations), since);
      return { ...base, report };
    }
    const sql = deps.openDatabase(target.url, { max: 1, applicationName: "drift-guard cli" });
    try {
      const report = await databaseReport(sql, () => Promise.resolve(files), { evidence: options.evidence, migrationsDir: options.migrations, since });
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
  const files = await readFiles(deps, options.migrations);
  const outcomes = await bounded(targets, CONCURRENT_TARGETS, (t) => checkOne(deps, t, files, options, since));
  const report = combineEnvironments(outcomes, { failOn: options.failOn, failOnTarget });

  const style = styleFor(deps);
  if (options.output) {
    await deps.fs.writeFile(resolve(deps.cwd, options.output), renderEnvironments(report, options.format));
    deps.stdout.write(renderEnvironments(report, "text", style));
  } else {
    deps.stdout.write(renderEnvironments(report, options.format, options.format === "text" ? style : PLAIN));
  }
  const code = environmentsExitCode(report);
  const passing = report.targets.filter((t) => t.status === "drift" && !t.fails);
  for (const t of passing) {
    if (t.status === "error") continue;
    deps.stderr.write(`drift-guard: ${t.name}: drift only in ${driftedStates(t).join(", ")}, which --fail-on ${t.fail_on?.join(",")} lets pass\n`);
  }
  return code;
}

/**
 * The options of `check` as commander parsed them, for `run`; null when no target
 * option was given (the single-target check runs). --db-url or --url typed beside
 * --target is an error: each target names its own URL.
 *
 * @example fromCheckOptions({ target: ["staging"], allTargets: false, failOnTarget: [], … }, { dbUrl: false, url: false })
 */
export function fromCheckOptions(
  opts: { target?: string[]; allTargets?: boolean; failOnTarget?: string[]; token?: string; migrations: string; format: EnvironmentsFormat; output?: string; evidence: boolean; failOn?: string[]; since?: string },
  typed: { dbUrl: boolean; url: boolean },
): CheckTargetsOptions | null {
  const targets = opts.target ?? [];
  const failOnTarget = opts.failOnTarget ?? [];
  if (!targets.length && !opts.allTargets) {
    if (failOnTarget.length) throw new DriftGuardError("usage", "--fail-on-target needs --target or --all-targets", "e.g. --all-targets --fail-on-target production=remote_only,edited");
    return null;
  }
  if (typed.dbUrl || typed.url) {
    throw new DriftGuardError("usage", `pass --${typed.dbUrl ? "db-url" : "url"} as a target instead: --target production=URL`, "with --target or --all-targets, each target names its own URL");
  }
  return { targets, allTargets: Boolean(opts.allTargets), token: opts.token, migrations: opts.migrations, format: opts.format, output: opts.output, evidence: opts.evidence, failOn: opts.failOn, failOnTarget, since: opts.since };
}

/** What `check --help` says about environments. */
export const ENVIRONMENTS_HELP = `Several environments at once (docs/environments.md): --target NAME=URL, repeatable, or NAME
alone to read DRIFT_GUARD_DB_URL_<NAME> (a database) or DRIFT_GUARD_URL_<NAME> with DRIFT_GUARD_TOKEN_<NAME>
(its function); <NAME> upper-cased, - as _. --all-targets adds every [remotes.<name>] of supabase/config.toml,
and production when SUPABASE_DB_URL or DRIFT_GUARD_URL is set. One report: a version-by-environment matrix,
what differs between environments, then each target's report. --fail-on applies to every target;
--fail-on-target NAME=STATE,… replaces it for one. A target that cannot be checked is reported and exits 3.`;
