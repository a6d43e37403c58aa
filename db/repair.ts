/** Calls the guarded SQL functions of the drift_guard schema. */
import { historyDigest } from "../shared/checksum.ts";
import { planRepair, type RepairRequest, validateAuditId } from "../shared/repair_plan.ts";
import type { LocalMigration, RepairPlan } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import type { Sql } from "./connect.ts";
import { knownStatements, readHistory } from "./history.ts";

export type Actor = Record<string, unknown>;

export async function applyRepair(sql: Sql, plan: RepairPlan, expectedDigest: string, actor: Actor): Promise<{ audit_id: string; history_digest: string }> {
  const changes = plan.changes.map((c) => ({ op: c.op, version: c.version, name: c.name, statements: c.statements ?? null }));
  const planRecord = { changes: plan.changes.map(({ op, version, name }) => ({ op, version, name })), explain: plan.explain, planned_against: plan.history_digest };
  const [row] = await sql.unsafe<{ result: { audit_id: string; history_digest: string } }[]>(
    "select drift_guard.apply_repair($1, $2::text::jsonb, $3, $4::text::jsonb, $5::text::jsonb) as result",
    [expectedDigest, JSON.stringify(changes), plan.reason, JSON.stringify(actor), JSON.stringify(planRecord)],
  );
  return row.result;
}

export async function undoRepair(sql: Sql, auditId: string, reason: string, actor: Actor): Promise<{ audit_id: string; history_digest: string }> {
  const id = validateAuditId(auditId);
  const [row] = await sql.unsafe<{ result: { audit_id: string; history_digest: string } }[]>(
    "select drift_guard.undo_repair($1::uuid, $2, $3::text::jsonb) as result",
    [id, reason, JSON.stringify(actor)],
  );
  return row.result;
}

/**
 * The whole guarded repair, as both the CLI and the function run it: without
 * `expectDigest` a dry-run plan; with it, apply only if the history is still the
 * one the plan was made against. A stale digest is a conflict even when the plan
 * would no longer validate (its version was reverted meanwhile by the winner of
 * a race); the SQL function checks the digest again under its lock.
 */
export async function repairHistory(
  sql: Sql,
  request: RepairRequest,
  local: readonly LocalMigration[],
  expectDigest: string | undefined,
  actor: Actor,
): Promise<RepairPlan> {
  const remote = await readHistory(sql, knownStatements(local));
  if (expectDigest !== undefined) {
    const current = historyDigest(remote ?? []);
    if (current !== expectDigest) {
      throw new DriftGuardError("digest_mismatch", `the history changed since the plan was made: it is now ${current}`, "plan again (without --apply or expect_digest) and review the new plan");
    }
  }
  const plan = planRepair(request, local, remote);
  if (expectDigest === undefined) return plan;
  if (plan.changes.length === 0) return { ...plan, dry_run: false };
  const applied = await applyRepair(sql, plan, expectDigest, actor);
  return { ...plan, dry_run: false, history_digest: applied.history_digest, audit_id: applied.audit_id };
}
