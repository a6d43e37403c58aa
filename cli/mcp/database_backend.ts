/** The MCP tools against the database itself (--db-url / SUPABASE_DB_URL): the calls `check`, `repair`, `undo`, `fetch` and `ledger` make. */
import { parseSince } from "../../shared/ledger.ts";
import { repairJson, type RepairRequest } from "../../shared/repair_plan.ts";
import { computeDrift } from "../../shared/drift.ts";
import type { Sql } from "../../db/connect.ts";
import { collectDefinitionEvidence } from "../../db/definition_evidence.ts";
import { knownStatements, readHistory } from "../../db/history.ts";
import { ledgerState, readLedger } from "../../db/ledger.ts";
import { repairHistory, undoRepair } from "../../db/repair.ts";
import { reportFromDatabase } from "../commands/check.ts";
import { remoteOnlyVersions } from "../commands/fetch.ts";
import { applyCommandLine } from "../commands/repair.ts";
import { shellArg } from "../../shared/shell_arg.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { requireLedger } from "../installed.ts";
import { readMigrationsDir } from "../local_migrations.ts";
import type { McpBackend, RepairJson } from "./backend.ts";

/** What the server's connections call themselves in pg_stat_activity and the DDL ledger. */
export const MCP_APPLICATION_NAME = "drift-guard mcp";

/**
 * A request as `drift-guard repair`'s flags: what its apply line repeats.
 *
 * @example repairSelection({ squash: { rows: ["1", "2"], into: ["3"] }, reason: "x" }) // { squash: ["1", "2"], into: ["3"], … }
 */
export function repairSelection(request: RepairRequest) {
  return {
    markApplied: request.markApplied ? [...request.markApplied] : undefined,
    markReverted: request.markReverted ? [...request.markReverted] : undefined,
    move: request.move?.from,
    to: request.move?.to,
    squash: request.squash ? [...request.squash.rows] : undefined,
    into: request.squash ? [...request.squash.into] : undefined,
  };
}

/**
 * The tools' calls over one short-lived connection each: a connection that dies
 * (terminated, database dropped, network gone) fails that call alone, and the
 * next call connects again.
 *
 * @example const backend = databaseBackend(deps, "postgresql://…", "supabase/migrations")
 */
export function databaseBackend(deps: Pick<CliDeps, "openDatabase" | "fs" | "cwd" | "env" | "stderr" | "now">, url: string, migrationsFlag: string): McpBackend {
  // One short-lived pool per call, named in pg_stat_activity and the DDL ledger as the MCP server.
  const withSql = <T>(fn: (sql: Sql) => Promise<T>): Promise<T> => withDatabase(deps, url, fn, MCP_APPLICATION_NAME);
  const local = () => readMigrationsDir(migrationsFlag, deps);
  return {
    kind: "database",
    check({ evidence, since }) {
      return withSql((sql) => reportFromDatabase(deps, sql, { migrations: migrationsFlag, evidence, since }));
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
        since: query.since ? parseSince(query.since, deps.now(), "since") : undefined,
        until: query.until ? parseSince(query.until, deps.now(), "until") : undefined,
        object: query.object,
        status: query.status ?? "all",
        limit: query.limit ?? 1000,
      };
      return withSql(async (sql) => {
        await requireLedger(sql);
        return { ledger: { ...(await ledgerState(sql)) }, entries: await readLedger(sql, parsed) };
      });
    },
    applyCommand(request, plan) {
      const force = plan.force_different === true && Array.isArray(plan.different) && plan.different.length > 0;
      return applyCommandLine({ migrations: migrationsFlag, ...repairSelection(request) }, request.reason ?? "", force, plan.plan_digest);
    },
    undoCommand(auditId, reason) {
      return `drift-guard undo --audit-id ${shellArg(auditId)} --reason ${shellArg(reason)}`;
    },
  };
}
