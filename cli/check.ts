/** `drift-guard check`: the report, read-only, from a database URL or through the function. */
import { parseSince } from "../shared/ledger.ts";
import { buildManifest, manifestDigest } from "../shared/manifest.ts";
import { renderReport, type ReportFormat } from "../shared/report_formats/index.ts";
import type { Report } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import { collectDefinitionEvidence } from "../db/definition_evidence.ts";
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
 * The report for the local migrations from the deployed function (POST /drift), refused
 * unless it echoes the digest of the manifest that was sent.
 *
 * @example const report = await reportThroughFunction("supabase/migrations", requireFunctionTarget(url, token))
 */
export async function reportThroughFunction(migrations: string, target: FunctionTarget, since?: Date): Promise<Report & { manifest_digest: string }> {
  const parsed = await readMigrationsDir(migrations);
  const manifest = buildManifest(parsed, gitProvenance(migrations), new Date());
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

export async function checkCommand(opts: CheckOptions): Promise<number> {
  let report: Report;
  const since = opts.since ? parseSince(opts.since) : undefined;
  if (opts.url && !opts.dbUrl) {
    report = await reportThroughFunction(opts.migrations, requireFunctionTarget(opts.url, opts.token), since);
  } else {
    if (!opts.dbUrl) {
      throw new DriftGuardError("usage", "missing --db-url (or SUPABASE_DB_URL), or --url and --token for the function", "drift-guard check --db-url postgresql://…");
    }
    report = await withDatabase(opts.dbUrl, async (sql) => {
      // Connect while the files are read: the handshake's round trips overlap the disk work.
      const connected = sql`select 1`.catch(() => {});
      const parsed = await readMigrationsDir(opts.migrations);
      await connected;
      return await driftReport(sql, parsed.migrations, parsed.problems, { evidence: opts.evidence ? "definitions" : false, judgeDefinitions: collectDefinitionEvidence, migrationsDir: opts.migrations, since });
    });
  }
  printReport((format, style) => renderReport(report, format, style), opts.format, opts.output);
  return reportExitCode(report, opts.failOn);
}
