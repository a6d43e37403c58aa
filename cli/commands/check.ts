/** `drift-guard check`: the report, read-only, from a database URL or through the function. */
import { InvalidArgumentError, Option } from "commander";
import { parseSince } from "../../shared/ledger.ts";
import { buildManifest, manifestDigest } from "../../shared/manifest.ts";
import { renderReport, type ReportFormat } from "../../shared/report_formats/index.ts";
import type { Report } from "../../shared/types.ts";
import { DRIFT_STATES, DriftGuardError } from "../../shared/types.ts";
import type { Sql } from "../../db/connect.ts";
import { type DefinitionJudge, driftReport } from "../../db/report.ts";
import type { ReplayVerifier } from "../../db/history_replay.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { callFunction, type FunctionTarget, requireFunctionTarget } from "../function_client.ts";
import { gitFileMove, gitProvenance } from "../git.ts";
import { readMigrationsDir } from "../local_migrations.ts";
import { dbUrlOption, functionUrlOption, migrationsOption, requireDbUrl, TARGET_RULE_HELP, tokenOption } from "../options.ts";
import { printReport, reportExitCode } from "../output.ts";

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
}

/**
 * Evidence by definition replays migrations in the embedded shadow (PGlite and the
 * schema-diff engine): loaded only when some migration is local-only, so an in-sync
 * check never loads them.
 */
const judgeDefinitions: DefinitionJudge = async (...args) => (await import("../../db/definition_evidence.ts")).collectDefinitionEvidence(...args);
// The replay loads the shadow (PGlite) too: only when there is a suggestion to verify.
const verifyReplay: ReplayVerifier = async (...args) => (await import("../../db/history_replay.ts")).verifyHistoryReplay(...args);

/** What --fail-on can name: the drift states, and `untracked` for DDL the ledger saw outside any migration. */
const DRIFT_FAIL_STATES = [...DRIFT_STATES.filter((s) => s !== "in_sync"), "untracked"];

/** `--fail-on a,b`: drift states only; anything else is a usage error (exit 2). */
function parseFailOn(value: string): string[] {
  const states = value.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = states.filter((s) => !(DRIFT_FAIL_STATES as readonly string[]).includes(s));
  if (states.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`expected drift states from ${DRIFT_FAIL_STATES.join(", ")}${unknown.length ? `, not ${unknown.map((u) => JSON.stringify(u)).join(", ")}` : ""}`);
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
    new Option("--fail-on <states>", `drift states that exit 1, comma-separated (default: every drift state: ${DRIFT_FAIL_STATES.join(",")})`).argParser(parseFailOn),
    new Option("--since <when>", "untracked DDL since this ISO time or duration (7d, 24h); default: since the ledger was installed"),
  ],
  help: `${TARGET_RULE_HELP}

--fail-on decides what fails CI. A pull request's own new migrations are pending until the deploy
applies them, so a pull-request check passes --fail-on remote_only,out_of_order,edited,renamed,untracked.`,
  exitCodes: [0, 1, 2, 3],
  zeroMeans: "in sync (or drift only in states --fail-on leaves out)",
  examples: [
    "drift-guard check --db-url postgresql://postgres:…@db.<ref>.supabase.co:5432/postgres",
    'drift-guard check --url https://<ref>.supabase.co/functions/v1/migration-drift --token "$DRIFT_GUARD_TOKEN"',
    "drift-guard check --fail-on remote_only,out_of_order,edited,renamed,untracked --format markdown --output report.md",
  ],
  target: true,
};

/**
 * The report for the local migrations from the deployed function (POST /drift), refused
 * unless it echoes the digest of the manifest in the request. `drift-guard mcp` calls it too.
 *
 * @example const report = await reportThroughFunction(deps, "supabase/migrations", requireFunctionTarget(url, token))
 */
export async function reportThroughFunction(deps: Pick<CliDeps, "fs" | "cwd" | "env" | "now" | "stderr">, migrations: string, target: FunctionTarget, since?: Date): Promise<Report & { manifest_digest: string }> {
  const parsed = await readMigrationsDir(migrations, deps);
  const manifest = buildManifest(parsed, gitProvenance(migrations, deps), deps.now());
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
  return body as Report & { manifest_digest: string };
}

/**
 * The report for the local migrations against an open database: with evidence, the
 * definitions of local-only migrations and a replay that verifies every suggestion
 * (findings: moved, squashed, renumber, ambiguous). `drift-guard mcp` calls it too.
 *
 * @example const report = await withDatabase(deps, url, (sql) => reportFromDatabase(deps, sql, { migrations: "supabase/migrations", evidence: true }))
 */
export async function reportFromDatabase(deps: Pick<CliDeps, "fs" | "cwd" | "stderr">, sql: Sql, opts: { migrations: string; evidence: boolean; since?: Date }): Promise<Report> {
  // Connect while the files are read: the handshake's round trips overlap the disk work.
  const connected = sql`select 1`.catch(() => {});
  const parsed = await readMigrationsDir(opts.migrations, deps);
  await connected;
  return await driftReport(sql, parsed.migrations, parsed.problems, { evidence: opts.evidence ? "definitions" : false, judgeDefinitions, migrationsDir: opts.migrations, since: opts.since, ...(opts.evidence ? { verifyReplay, fileMove: gitFileMove(opts.migrations, deps) } : {}) });
}

/**
 * The drift report for `opts.migrations` against the database or the function; exit 0, 1 or 2 by its content.
 * @example await run(deps, { dbUrl, migrations: "supabase/migrations", format: "json", evidence: true })
 */
export async function run(deps: CliDeps, opts: CheckOptions): Promise<number> {
  let report: Report;
  const since = opts.since ? parseSince(opts.since, deps.now()) : undefined;
  if (opts.url && !opts.dbUrl) {
    report = await reportThroughFunction(deps, opts.migrations, requireFunctionTarget(opts.url, opts.token), since);
  } else {
    const url = requireDbUrl(opts.dbUrl, "check", { orFunction: true });
    report = await withDatabase(deps, url, (sql) => reportFromDatabase(deps, sql, { migrations: opts.migrations, evidence: opts.evidence, since }));
  }
  await printReport(deps, (format, style) => renderReport(report, format, style), opts.format, opts.output);
  return reportExitCode(report, opts.failOn, deps.stderr);
}
