/** `drift-guard check`: the report, read-only, from a database URL or through the function. */
import { parseSince } from "../shared/ledger.ts";
import { buildManifest, manifestDigest } from "../shared/manifest.ts";
import { renderReport, type ReportFormat } from "../shared/report_formats/index.ts";
import type { ParsedMigrations } from "../shared/migration_files.ts";
import type { Report } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import { collectDefinitionEvidence } from "../db/definition_evidence.ts";
import type { Sql } from "../db/connect.ts";
import { driftReport } from "../db/report.ts";
import { withDatabase } from "./database.ts";
import { callFunction, type FunctionTarget, requireFunctionTarget } from "./function_client.ts";
import { gitProvenance } from "./git.ts";
import { readMigrationsDir } from "./local_migrations.ts";
import { printReport, reportExitCode } from "./output.ts";

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
 * One database's report: its history and catalog against the migration files.
 * `readFiles` is called once the connection is under way, so that the handshake's
 * round trips overlap the disk work.
 *
 * @example await databaseReport(sql, () => readMigrationsDir("supabase/migrations"), { evidence: true, migrationsDir: "supabase/migrations" })
 */
export async function databaseReport(sql: Sql, readFiles: () => Promise<ParsedMigrations>, opts: { evidence: boolean; migrationsDir: string; since?: Date }): Promise<Report> {
  const connected = sql`select 1`.catch(() => {});
  const parsed = await readFiles();
  await connected;
  return await driftReport(sql, parsed.migrations, parsed.problems, { evidence: opts.evidence ? "definitions" : false, judgeDefinitions: collectDefinitionEvidence, migrationsDir: opts.migrationsDir, since: opts.since });
}

/**
 * The deployed function's report for the migration files, which it must show it judged
 * (it echoes the manifest_digest of the manifest sent).
 *
 * @example await functionReport({ url: "https://<ref>.supabase.co/functions/v1/migration-drift", token }, parsed, "supabase/migrations")
 */
export async function functionReport(target: FunctionTarget, parsed: ParsedMigrations, migrationsDir: string, since?: Date): Promise<Report> {
  const manifest = buildManifest(parsed, gitProvenance(migrationsDir), new Date());
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

export async function checkCommand(opts: CheckOptions): Promise<number> {
  let report: Report;
  const since = opts.since ? parseSince(opts.since) : undefined;
  if (opts.url && !opts.dbUrl) {
    const parsed = await readMigrationsDir(opts.migrations);
    report = await functionReport(requireFunctionTarget(opts.url, opts.token), parsed, opts.migrations, since);
  } else {
    if (!opts.dbUrl) {
      throw new DriftGuardError("usage", "missing --db-url (or SUPABASE_DB_URL), or --url and --token for the function", "drift-guard check --db-url postgresql://…");
    }
    report = await withDatabase(opts.dbUrl, (sql) => databaseReport(sql, () => readMigrationsDir(opts.migrations), { evidence: opts.evidence, migrationsDir: opts.migrations, since }));
  }
  printReport((format, style) => renderReport(report, format, style), opts.format, opts.output);
  return reportExitCode(report, opts.failOn);
}
