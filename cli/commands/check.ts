/** `drift-guard check`: the report, read-only, from a database URL or through the function. */
import { resolve } from "node:path";
import { InvalidArgumentError, Option } from "commander";
import { parseSince } from "../../shared/ledger.ts";
import { buildManifest, manifestDigest } from "../../shared/manifest.ts";
import { renderReport, type ReportFormat } from "../../shared/report_formats/index.ts";
import { FAIL_ON_STATES } from "../../shared/environments.ts";
import type { ParsedMigrations } from "../../shared/migration_files.ts";
import type { Report } from "../../shared/types.ts";
import { DriftGuardError, OUTCOMES } from "../../shared/types.ts";
import { renderReplay } from "../../shared/report_formats/replay.ts";
import type { Sql } from "../../db/connect.ts";
import { type DefinitionJudge, driftReport } from "../../db/report.ts";
import type { RepositoryReplayer, ReplayVerifier } from "../../db/report.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { callFunction, type FunctionTarget, requireFunctionTarget } from "../function_client.ts";
import { gitFileMove, gitProvenance } from "../git.ts";
import { readMigrationsDir } from "../local_migrations.ts";
import { dbUrlOption, functionUrlOption, migrationsOption, requireDbUrl, TARGET_RULE_HELP, tokenOption } from "../options.ts";
import { printReport, reportExitCode } from "../output.ts";
import type { CheckTargetsOptions } from "./check_targets.ts";

export interface CheckOptions {
  dbUrl?: string;
  url?: string;
  token?: string;
  migrations: string;
  format: ReportFormat;
  output?: string;
  evidence: boolean;
  /** Drift states that exit 1; default: all of them. */
  failOn?: string[];
  since?: string;
  /** `--target` values as typed (NAME=URL or NAME): the multi-environment check (check_targets.ts). */
  target?: string[];
  allTargets?: boolean;
  /** `--fail-on-target NAME=STATE,…` values as typed. */
  failOnTarget?: string[];
  /** Replay the repository from zero, as a preview branch does; a failing file fails the check. */
  replay?: boolean;
}

/**
 * Evidence by definition replays migrations in the embedded shadow (PGlite and the
 * schema-diff engine): loaded only when some migration is local-only, so an in-sync
 * check never loads them.
 */
const judgeDefinitions: DefinitionJudge = async (...args) => (await import("../../db/definition_evidence.ts")).collectDefinitionEvidence(...args);
// The replay loads the shadow (PGlite) too: only when there is a suggestion to verify.
const verifyReplay: ReplayVerifier = async (...args) => (await import("../../db/history_replay.ts")).verifyHistoryReplay(...args);
const replayRepository: RepositoryReplayer = async (...args) => (await import("../../db/history_replay.ts")).replayRepository(...args);

/** What `check --help` says about environments. */
const ENVIRONMENTS_HELP = `Several environments at once (docs/environments.md): --target NAME=URL, repeatable, or NAME
alone to read DRIFT_GUARD_DB_URL_<NAME> (a database) or DRIFT_GUARD_URL_<NAME> with DRIFT_GUARD_TOKEN_<NAME>
(its function); <NAME> upper-cased, - as _. --all-targets adds every [remotes.<name>] of supabase/config.toml,
and production when SUPABASE_DB_URL or DRIFT_GUARD_URL is set. One report: a version-by-environment matrix,
what differs between environments, then each target's report. --fail-on applies to every target;
--fail-on-target NAME=STATE,… replaces it for one. A target that cannot be checked is reported and exits 3.`;

/**
 * The options for the multi-environment check (check_targets.ts), or null when no
 * target option was given (the single-target check runs). --db-url or --url typed
 * beside --target is an error: each target names its own URL. A value equal to its
 * environment fallback (SUPABASE_DB_URL, DRIFT_GUARD_URL) came from the environment,
 * where --all-targets reads it as production.
 *
 * @example fromCheckOptions({ target: ["staging"], migrations: "supabase/migrations", format: "json", evidence: true }, {}) // { targets: ["staging"], … }
 */
export function fromCheckOptions(opts: CheckOptions, env: Readonly<Record<string, string | undefined>>): CheckTargetsOptions | null {
  const targets = opts.target ?? [];
  const failOnTarget = opts.failOnTarget ?? [];
  if (!targets.length && !opts.allTargets) {
    if (failOnTarget.length) throw new DriftGuardError("usage", "--fail-on-target needs --target or --all-targets", "e.g. --all-targets --fail-on-target production=remote_only,edited");
    return null;
  }
  const typedDbUrl = opts.dbUrl !== undefined && opts.dbUrl !== env.SUPABASE_DB_URL;
  const typedUrl = opts.url !== undefined && opts.url !== env.DRIFT_GUARD_URL;
  if (typedDbUrl || typedUrl) {
    throw new DriftGuardError("usage", `pass --${typedDbUrl ? "db-url" : "url"} as a target instead: --target production=URL`, "with --target or --all-targets, each target names its own URL");
  }
  return { targets, allTargets: Boolean(opts.allTargets), token: opts.token, migrations: opts.migrations, format: opts.format, output: opts.output, evidence: opts.evidence, failOn: opts.failOn, failOnTarget, since: opts.since };
}

/** A repeatable option's values, in the order typed. */
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `--fail-on a,b`: drift states only; anything else is a usage error (exit 2). */
function parseFailOn(value: string): string[] {
  const states = value.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = states.filter((s) => !FAIL_ON_STATES.includes(s));
  if (states.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`expected drift states from ${FAIL_ON_STATES.join(", ")}${unknown.length ? `, not ${unknown.map((u) => JSON.stringify(u)).join(", ")}` : ""}`);
  }
  return states;
}

export const definition: CommandDefinition = {
  name: "check",
  description: "compare supabase/migrations with the database's migration history (read-only); exits 0 in sync, 1 on drift",
  options: () => [
    dbUrlOption(),
    functionUrlOption(),
    tokenOption(),
    migrationsOption(),
    new Option("--format <format>", "output format").choices(["text", "json", "markdown", "junit"]).default("text"),
    new Option("--output <file>", "also write --format to FILE; the terminal gets text"),
    new Option("--no-evidence", "skip the evidence: replaying local-only migrations in the embedded shadow and comparing what they build with the live catalog"),
    new Option("--fail-on <states>", `drift states that exit 1, comma-separated (default: every drift state: ${FAIL_ON_STATES.join(",")})`).argParser(parseFailOn),
    new Option("--since <when>", "untracked DDL since this ISO time or duration (7d, 24h); default: since the ledger was installed"),
    new Option("--target <name[=url]>", "an environment to check, repeatable: NAME=URL (a database or function URL), or NAME alone for DRIFT_GUARD_DB_URL_<NAME> / DRIFT_GUARD_URL_<NAME>").argParser(collect),
    new Option("--replay", "replay the migrations from zero on a fresh project, as a preview branch does; the first failing file:line exits 1. Alone: no database needed"),
    new Option("--all-targets", "check every [remotes.<name>] of supabase/config.toml, plus production when SUPABASE_DB_URL (or DRIFT_GUARD_URL) is set"),
    new Option("--fail-on-target <name=states>", "--fail-on for one target, repeatable: production=remote_only,edited").argParser(collect),
  ],
  help: `${TARGET_RULE_HELP}
${ENVIRONMENTS_HELP}

--replay builds the repository as a preview branch and \`supabase db reset\` do: every file in order, from
zero, in the embedded shadow. Without --db-url or --url it needs no database and prints only that verdict;
beside one, the report carries it. A file that fails exits 1, whatever --fail-on says (docs/whole-history.md).

--fail-on decides what fails CI. A pull request's own new migrations are pending until the deploy
applies them, so a pull-request check passes --fail-on remote_only,out_of_order,edited,renamed,untracked.`,
  exitCodes: [0, 1, 2, 3],
  zeroMeans: "in sync (or drift only in states --fail-on leaves out)",
  examples: [
    "drift-guard check --db-url postgresql://postgres:…@db.<ref>.supabase.co:5432/postgres",
    'drift-guard check --url https://<ref>.supabase.co/functions/v1/migration-drift --token "$DRIFT_GUARD_TOKEN"',
    "drift-guard check --fail-on remote_only,out_of_order,edited,renamed,untracked --format markdown --output report.md",
    "drift-guard check --target production --target staging=postgresql://…@db.<staging-ref>.supabase.co:5432/postgres",
    "drift-guard check --replay",
    "drift-guard check --all-targets --fail-on-target production=remote_only,out_of_order,edited,renamed,untracked",
  ],
  target: true,
};

/**
 * One database's report: its history and catalog against the migration files.
 * `readFiles` is called once the connection is under way, so that the handshake's
 * round trips overlap the disk work. With `evidence`, local-only migrations are
 * judged by definition and the repository is replayed from zero (Report.replay).
 *
 * @example await databaseReport(deps, sql, () => readMigrationsDir("supabase/migrations", deps), { evidence: true, migrationsDir: "supabase/migrations" })
 */
export async function databaseReport(
  deps: Pick<CliDeps, "cwd" | "fs">,
  sql: Sql,
  readFiles: () => Promise<ParsedMigrations>,
  opts: { evidence: boolean; migrationsDir: string; since?: Date },
): Promise<Report> {
  const connected = sql`select 1`.catch(() => {});
  const parsed = await readFiles();
  await connected;
  return await driftReport(sql, parsed.migrations, parsed.problems, {
    evidence: opts.evidence ? "definitions" : false,
    judgeDefinitions,
    migrationsDir: opts.migrationsDir,
    since: opts.since,
    ...(opts.evidence ? { verifyReplay, replayRepository, fileMove: gitFileMove(opts.migrationsDir, deps) } : { noReplay: "--no-evidence skips the replay" }),
    readText: (path) => deps.fs.readFile(resolve(deps.cwd, path), "utf8"),
  });
}

/**
 * The deployed function's report for the migration files, which it must show it judged
 * (it echoes the manifest_digest of the manifest sent).
 *
 * @example await functionReport(deps, { url: "https://<ref>.supabase.co/functions/v1/migration-drift", token }, parsed, "supabase/migrations")
 */
export async function functionReport(deps: Pick<CliDeps, "env" | "cwd" | "now">, target: FunctionTarget, parsed: ParsedMigrations, migrationsDir: string, since?: Date): Promise<Report> {
  const manifest = buildManifest(parsed, gitProvenance(migrationsDir, deps), deps.now());
  const [, body] = await callFunction(target, "POST", since ? `drift?since=${encodeURIComponent(since.toISOString())}` : "drift", manifest);
  // Whatever answered must show it judged the manifest we sent: a fake "in_sync" is an error, not a pass.
  const echoed = (body as { manifest_digest?: unknown } | null)?.manifest_digest;
  if (echoed !== manifestDigest(manifest)) {
    throw new DriftGuardError(
      "unreachable",
      echoed === undefined ? "the answer from --url is not a drift report for the manifest we sent (it carries no manifest_digest)" : "the answer from --url is a report about another manifest (its manifest_digest differs from the one sent)",
      "is --url your project's migration-drift function, deployed from this drift-guard version?",
    );
  }
  return body as Report;
}

/**
 * The report for the local migrations from the deployed function (POST /drift), refused
 * unless it echoes the digest of the manifest in the request. `drift-guard mcp` calls it too.
 *
 * @example const report = await reportThroughFunction(deps, "supabase/migrations", requireFunctionTarget(url, token))
 */
export async function reportThroughFunction(deps: Pick<CliDeps, "fs" | "cwd" | "env" | "now" | "stderr">, migrations: string, target: FunctionTarget, since?: Date): Promise<Report & { manifest_digest: string }> {
  const parsed = await readMigrationsDir(migrations, deps);
  return (await functionReport(deps, target, parsed, migrations, since)) as Report & { manifest_digest: string };
}

/**
 * The report for the local migrations against an open database: with evidence, the
 * definitions of local-only migrations and a replay that verifies every suggestion
 * (findings: moved, squashed, renumber, ambiguous). `drift-guard mcp` calls it too.
 *
 * @example const report = await withDatabase(deps, url, (sql) => reportFromDatabase(deps, sql, { migrations: "supabase/migrations", evidence: true }))
 */
export function reportFromDatabase(deps: Pick<CliDeps, "fs" | "cwd" | "stderr">, sql: Sql, opts: { migrations: string; evidence: boolean; since?: Date }): Promise<Report> {
  return databaseReport(deps, sql, () => readMigrationsDir(opts.migrations, deps), { evidence: opts.evidence, migrationsDir: opts.migrations, since: opts.since });
}

/**
 * The drift report for `opts.migrations` against the database or the function; exit 0, 1 or 2 by its content.
 * With --target or --all-targets, every environment named, in one report (check_targets.ts).
 * @example await run(deps, { dbUrl, migrations: "supabase/migrations", format: "json", evidence: true })
 */
export async function run(deps: CliDeps, opts: CheckOptions): Promise<number> {
  const targets = fromCheckOptions(opts, deps.env);
  // The multi-environment check (and its matrix) is loaded only when asked for.
  if (targets) {
    if (opts.replay) throw new DriftGuardError("usage", "--replay checks the repository once, not per target", "run drift-guard check --replay on its own, beside --target …");
    return await (await import("./check_targets.ts")).run(deps, targets);
  }
  if (opts.replay && !opts.dbUrl && !opts.url) {
    // A preview branch: the files alone, from zero; no database is read.
    const parsed = await readMigrationsDir(opts.migrations, deps);
    if (parsed.problems.some((p) => p.level === "error")) {
      throw new DriftGuardError("bad_input", parsed.problems.filter((p) => p.level === "error").map((p) => `${p.file}: ${p.message}`).join("; "));
    }
    const replay = await replayFrom(deps, parsed);
    await printReport(deps, (format) => renderReplay(replay, format), opts.format, opts.output);
    return replay.status === "failed" ? OUTCOMES.drift.exit : OUTCOMES.in_sync.exit;
  }
  let report: Report;
  const since = opts.since ? parseSince(opts.since, deps.now()) : undefined;
  if (opts.url && !opts.dbUrl) {
    const parsed = await readMigrationsDir(opts.migrations, deps);
    report = await functionReport(deps, requireFunctionTarget(opts.url, opts.token), parsed, opts.migrations, since);
  } else {
    const url = requireDbUrl(opts.dbUrl, "check", { orFunction: true });
    report = await withDatabase(deps, url, (sql) => databaseReport(deps, sql, () => readMigrationsDir(opts.migrations, deps), { evidence: opts.evidence, migrationsDir: opts.migrations, since }));
  }
  if (opts.replay && !report.replay) {
    // Through the function (it has no shadow), or with --no-evidence: the files replay here.
    const parsed = await readMigrationsDir(opts.migrations, deps);
    report = { ...report, replay: await replayFrom(deps, parsed) };
  }
  await printReport(deps, (format, style) => renderReport(report, format, style), opts.format, opts.output);
  const code = reportExitCode(report, opts.failOn, deps.stderr);
  return opts.replay && code === OUTCOMES.in_sync.exit && report.replay?.status === "failed" ? OUTCOMES.drift.exit : code;
}

/** The files replayed from zero on a fresh project (db/history_replay.ts; it loads the shadow, PGlite). */
async function replayFrom(deps: CliDeps, parsed: ParsedMigrations) {
  const { replayFromZero } = await import("../../db/history_replay.ts");
  return await replayFromZero(parsed.migrations, { readText: (path) => deps.fs.readFile(resolve(deps.cwd, path), "utf8") });
}
