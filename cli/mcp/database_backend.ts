/** The MCP tools against the database itself (--db-url / SUPABASE_DB_URL): the calls `check`, `repair`, `undo`, `fetch` and `ledger` make. */
import { parseSince } from "../../shared/ledger.ts";
import { repairJson, type RepairRequest } from "../../shared/repair_plan.ts";
import { computeDrift, DEFAULT_MIGRATIONS_DIR } from "../../shared/drift.ts";
import { DriftGuardError } from "../../shared/types.ts";
import type { Sql } from "../../db/connect.ts";
import { databaseError } from "../../db/database_error.ts";
import { collectDefinitionEvidence } from "../../db/definition_evidence.ts";
import { knownStatements, readHistory } from "../../db/history.ts";
import { ledgerInstalled, ledgerState, readLedger } from "../../db/ledger.ts";
import { repairHistory, undoRepair } from "../../db/repair.ts";
import { driftReport } from "../../db/report.ts";
import type { CliDeps } from "../deps.ts";
import { readMigrationsDir } from "../local_migrations.ts";
import { shellArg } from "../new_file.ts";
import { type McpBackend, remoteOnlyVersions, type RepairJson } from "./backend.ts";

/** What the server's connections call themselves in pg_stat_activity and the DDL ledger. */
export const MCP_APPLICATION_NAME = "drift-guard mcp";

/**
 * The flags that select the marks, as `drift-guard repair` takes them.
 *
 * @example repairFlags({ markApplied: ["004", "008"], reason: "x" }) // "--mark-applied 004 008"
 */
export function repairFlags(request: RepairRequest): string {
  const flag = request.markApplied?.length ? `--mark-applied ${request.markApplied.join(" ")}` : `--mark-reverted ${(request.markReverted ?? []).join(" ")}`;
  return `${flag}${request.forceDifferent ? " --force-different" : ""}`;
}

/**
 * The tools' calls over one short-lived connection each: a connection that dies
 * (terminated, database dropped, network gone) fails that call alone, and the
 * next call connects again.
 *
 * @example const backend = databaseBackend(deps, process.env.SUPABASE_DB_URL!, "/repo/supabase/migrations", "supabase/migrations")
 */
export function databaseBackend(deps: Pick<CliDeps, "openDatabase" | "cwd">, url: string, migrationsDir: string, migrationsFlag: string): McpBackend {
  const withSql = async <T>(fn: (sql: Sql) => Promise<T>): Promise<T> => {
    const sql = deps.openDatabase(url, { max: 1, applicationName: MCP_APPLICATION_NAME });
    try {
      return await fn(sql);
    } catch (err) {
      // Never the server's raw text (it may quote SQL) nor the password: the one translation the CLI uses.
      throw databaseError(err, url);
    } finally {
      await sql.end({ timeout: 2 }).catch(() => {});
    }
  };
  const local = () => readMigrationsDir(migrationsDir);
  const migrationsArg = migrationsFlag === DEFAULT_MIGRATIONS_DIR ? "" : ` --migrations ${shellArg(migrationsFlag)}`;
  return {
    kind: "database",
    async check({ evidence, since }) {
      const parsed = await local();
      return await withSql((sql) => driftReport(sql, parsed.migrations, parsed.problems, { evidence: evidence ? "definitions" : false, judgeDefinitions: collectDefinitionEvidence, migrationsDir, since }));
    },
    async plan(request) {
      const parsed = await local();
      const plan = await withSql((sql) => repairHistory(sql, request, parsed.migrations, undefined, {}, { judgeDefinitions: collectDefinitionEvidence }));
      return repairJson(plan) as RepairJson;
    },
    async apply(request, planDigest, actor) {
      const parsed = await local();
      const plan = await withSql((sql) => repairHistory(sql, request, parsed.migrations, { digest: planDigest }, actor, { judgeDefinitions: collectDefinitionEvidence }));
      return repairJson(plan) as RepairJson;
    },
    undo(auditId, reason, actor) {
      return withSql((sql) => undoRepair(sql, auditId, reason, actor));
    },
    async remoteOnlyRows(versions) {
      const parsed = await local();
      const remote = await withSql((sql) => readHistory(sql, knownStatements(parsed.migrations)));
      const report = computeDrift({ local: parsed.migrations, remote, problems: parsed.problems });
      const rows = new Map((remote ?? []).map((r) => [r.version, r]));
      return remoteOnlyVersions(report, versions).map((v) => rows.get(v)!);
    },
    ledger(query) {
      const parsed = {
        since: query.since ? parseSince(query.since, new Date(), "since") : undefined,
        until: query.until ? parseSince(query.until, new Date(), "until") : undefined,
        object: query.object,
        status: query.status ?? "all",
        limit: query.limit ?? 1000,
      };
      return withSql(async (sql) => {
        if (!(await ledgerInstalled(sql))) {
          throw new DriftGuardError("not_installed", "the DDL ledger is not installed in this database", "a person runs: drift-guard install --db-url …");
        }
        return { ledger: { ...(await ledgerState(sql)) }, entries: await readLedger(sql, parsed) };
      });
    },
    applyCommand(request, planDigest) {
      return `drift-guard repair ${repairFlags(request)} --reason ${shellArg(request.reason ?? "")}${migrationsArg} --apply --expect-digest ${planDigest}`;
    },
    undoCommand(auditId, reason) {
      return `drift-guard undo --audit-id ${shellArg(auditId)} --reason ${shellArg(reason)}`;
    },
  };
}
