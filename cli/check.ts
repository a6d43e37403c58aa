/** `drift-guard check`: the report, read-only, from a database URL or through the function. */
import { computeDrift } from "../shared/drift.ts";
import { buildManifest } from "../shared/manifest.ts";
import { renderReport, type ReportFormat } from "../shared/report_formats/index.ts";
import type { Report } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import { readHistory } from "../db/history.ts";
import { withDatabase } from "./database.ts";
import { callFunction, requireFunctionTarget } from "./function_client.ts";
import { gitProvenance } from "./git.ts";
import { readMigrationsDir } from "./local_migrations.ts";
import { printReport, reportExitCode } from "./output.ts";
import { collectEvidence } from "../db/evidence.ts";

export interface CheckOptions {
  dbUrl?: string;
  url?: string;
  token?: string;
  migrations: string;
  format: ReportFormat;
  output?: string;
  evidence: boolean;
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
      const remote = await readHistory(sql, new Map(parsed.migrations.map((m) => [m.version, m.statements])));
      const remoteVersions = new Set((remote ?? []).map((r) => r.version));
      const localOnly = parsed.migrations.filter((m) => !remoteVersions.has(m.version));
      const evidence = opts.evidence && remote?.length ? await collectEvidence(sql, localOnly) : undefined;
      return computeDrift({ local: parsed.migrations, remote, problems: parsed.problems, evidence, migrationsDir: opts.migrations });
    });
  }
  printReport((format, style) => renderReport(report, format, style), opts.format, opts.output);
  return reportExitCode(report);
}
