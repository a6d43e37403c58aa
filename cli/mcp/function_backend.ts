/**
 * The MCP tools through the deployed migration-drift function (--url, --token). The
 * function records its caller (the token's label) as the audit actor; the agent's name
 * cannot travel with the request, so label the token after the agent (docs/mcp.md).
 */
import type { RepairRequest } from "../../shared/repair_plan.ts";
import { DriftGuardError } from "../../shared/types.ts";
import { reportThroughFunction } from "../commands/check.ts";
import { remoteOnlyVersions } from "../commands/fetch.ts";
import { shellArg } from "../../shared/shell_arg.ts";
import type { TokenScope } from "../../db/tokens.ts";
import type { CliDeps } from "../deps.ts";
import { callFunction, type FunctionTarget } from "../function_client.ts";
import type { FetchRow, McpBackend, RepairJson } from "./backend.ts";

/** A drift-guard token's scope (db/tokens.ts): scopes nest, repair includes deploy, deploy includes read. */
export type Scope = TokenScope;

/**
 * The token's scope, asked of the function without changing anything: `GET /audit?limit=1`
 * needs read (a 401 means the token is unknown or revoked), and `POST /repair/undo` with an
 * empty body needs repair. The function checks the scope ahead of reading a body, so a
 * repair token gets 400 (no audit_id: nothing undone) and a lesser one 403. Read and deploy
 * tokens both answer "read": the tools treat them alike.
 *
 * @example await tokenScope({ url: "https://<ref>.supabase.co/functions/v1/migration-drift", token }) // "read"
 */
export async function tokenScope(target: FunctionTarget): Promise<Scope> {
  await callFunction(target, "GET", "audit?limit=1");
  try {
    await callFunction(target, "POST", "repair/undo", {});
  } catch (err) {
    if (err instanceof DriftGuardError && err.code === "forbidden") return "read";
    if (err instanceof DriftGuardError && err.httpStatus === 400) return "repair";
    throw err;
  }
  throw new DriftGuardError("unreachable", "the function accepted an undo without an audit id", "is --url your project's migration-drift function, deployed from this drift-guard version?");
}

/**
 * The function's POST /repair body for a request. The function takes marks only: a move or
 * a squash (whole-history repairs) is refused here, and nothing is sent.
 */
const body = (request: RepairRequest, planDigest?: string) => {
  if (request.move || request.squash) {
    throw new DriftGuardError("bad_input", "move and squash are repaired against the database: the function's POST /repair takes mark_applied and mark_reverted only", "a person runs drift-guard repair --move/--squash with --db-url, or serves drift-guard mcp with --db-url");
  }
  return {
    ...(request.markApplied?.length ? { mark_applied: request.markApplied } : {}),
    ...(request.markReverted?.length ? { mark_reverted: request.markReverted } : {}),
    reason: request.reason,
    ...(request.forceDifferent ? { force_different: true } : {}),
    ...(planDigest ? { expect_digest: planDigest } : {}),
  };
};

/** A curl command that reads the URL and the token from the person's environment: no secret in the text. */
function curl(route: string, payload: unknown): string {
  return `curl -sS -X POST "$DRIFT_GUARD_URL/${route}" -H "Authorization: Bearer $DRIFT_GUARD_TOKEN" -H 'content-type: application/json' -d ${shellArg(JSON.stringify(payload))}`;
}

/** @example const backend = functionBackend(deps, { url, token }, "supabase/migrations") */
export function functionBackend(deps: Pick<CliDeps, "fs" | "cwd" | "env" | "now" | "stderr">, target: FunctionTarget, migrations: string): McpBackend {
  return {
    kind: "function",
    check({ since }) {
      return reportThroughFunction(deps, migrations, target, since);
    },
    async plan(request) {
      const [, result] = await callFunction(target, "POST", "repair", body(request));
      return result as RepairJson;
    },
    async apply(request, planDigest) {
      const [, result] = await callFunction(target, "POST", "repair", body(request, planDigest));
      return result as RepairJson;
    },
    async undo(auditId, reason) {
      const [, result] = await callFunction(target, "POST", "repair/undo", { audit_id: auditId, reason });
      return result as { audit_id: string; history_digest: string };
    },
    async remoteOnlyRows(versions) {
      const report = await reportThroughFunction(deps, migrations, target);
      const rows: FetchRow[] = [];
      for (const v of remoteOnlyVersions(report, versions)) {
        const [, row] = await callFunction(target, "GET", `history/${encodeURIComponent(v)}`);
        const r = row as { version?: unknown; name?: unknown; statements?: unknown };
        const statements = Array.isArray(r.statements) && r.statements.every((s) => typeof s === "string") ? r.statements as string[] : null;
        rows.push({ version: v, name: typeof r.name === "string" ? r.name : null, statements });
      }
      return rows;
    },
    async ledger(query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
      const [, result] = await callFunction(target, "GET", `ledger${params.size ? `?${params}` : ""}`);
      return result as { ledger: { active: boolean }; entries: unknown[] };
    },
    applyCommand(request, plan) {
      return curl("repair", body(request, plan.plan_digest));
    },
    undoCommand(auditId, reason) {
      return curl("repair/undo", { audit_id: auditId, reason });
    },
  };
}
