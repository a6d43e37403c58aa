/** `drift-guard check`: the report, read-only, from a database URL or through the function. */
import { buildManifest } from "../shared/manifest.ts";
import { renderReport, type ReportFormat } from "../shared/report_formats/index.ts";
import type { Report } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import { driftReport } from "../db/report.ts";
import { withDatabase } from "./database.ts";
import { callFunction, requireFunctionTarget } from "./function_client.ts";
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
}


export async function checkCommand(opts: CheckOptions): Promise<number> {
  let report: Report;
  if (opts.url && !opts.dbUrl) {
    const parsed = await readMigrationsDir(opts.migrations);
    const target = requireFunctionTarget(opts.url, opts.token);
    const manifest = buildManifest(parsed, gitProvenance(opts.migrations), new Date());
    const [, body] = await callFunction(target, "POST", "drift", manifest);
    report = body as Report;
  } else {
    if (!opts.dbUrl) {
      throw new DriftGuardError("usage", "missing --db-url (or SUPABASE_DB_URL), or --url and --token for the function", "drift-guard check --db-url postgresql://…");
    }
    report = await withDatabase(opts.dbUrl, async (sql) => {
      // Connect while the files are read: the handshake's round trips overlap the disk work.
      const connected = sql`select 1`.catch(() => {});
      const parsed = await readMigrationsDir(opts.migrations);
      await connected;
      return await driftReport(sql, parsed.migrations, parsed.problems, { evidence: opts.evidence ? "definitions" : false, migrationsDir: opts.migrations });
    });
  }
  printReport((format, style) => renderReport(report, format, style), opts.format, opts.output);
  return reportExitCode(report, opts.failOn);
}
