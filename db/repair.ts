/** Calls the guarded SQL functions of the drift_guard schema. */
import { historyDigest } from "../shared/checksum.ts";
import { planRepair, refuseDifferent, type RepairRequest } from "../shared/repair_plan.ts";
import type { LocalMigration, RepairPlan } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import type { Sql } from "./connect.ts";
import { collectDefinitionEvidence, type DefinitionEvidenceOptions } from "./definition_evidence.ts";
import { knownStatements, readHistory } from "./history.ts";

export type Actor = Record<string, unknown>;

/** SQLSTATEs raised by supabase/migrations/*_drift_guard*.sql, mapped to the contract's codes. */
export function repairError(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  switch (e?.code) {
    case "DGM01":
      return new DriftGuardError("digest_mismatch", `the history changed since the plan was made: ${e.message}`, "run the repair again without --apply to see the new plan");
    case "DGL01":
      return new DriftGuardError("lock_held", `another repair holds the lock: ${e.message}`, "wait for it to finish, then plan again");
    case "DGI01":
      return new DriftGuardError("bad_input", String(e.message));
    case "DGN01":
      return new DriftGuardError("not_found", String(e.message), "drift-guard audit lists the audit ids");
    case "3F000":
    case "42883":
      return new DriftGuardError("not_installed", "drift_guard is not installed in this database: run drift-guard install", "drift-guard install --db-url …");
  }
  return err;
}

export async function applyRepair(sql: Sql, plan: RepairPlan, expectedDigest: string, actor: Actor): Promise<{ audit_id: string; history_digest: string }> {
  const changes = plan.changes.map((c) => ({ op: c.op, version: c.version, name: c.name, statements: c.statements ?? null }));
  const planRecord = { changes: plan.changes.map(({ op, version, name }) => ({ op, version, name })), explain: plan.explain, planned_against: plan.history_digest };
  try {
    const [row] = await sql.unsafe<{ result: { audit_id: string; history_digest: string } }[]>(
      "select drift_guard.apply_repair($1, $2::text::jsonb, $3, $4::text::jsonb, $5::text::jsonb) as result",
      [expectedDigest, JSON.stringify(changes), plan.reason, JSON.stringify(actor), JSON.stringify(planRecord)],
    );
    return row.result;
  } catch (err) {
    throw repairError(err);
  }
}

export async function undoRepair(sql: Sql, auditId: string, reason: string, actor: Actor): Promise<{ audit_id: string; history_digest: string }> {
  if (!/^[0-9a-f-]{36}$/i.test(auditId)) throw new DriftGuardError("bad_input", `"${auditId}" is not an audit id (a UUID)`, "drift-guard audit lists them");
  try {
    const [row] = await sql.unsafe<{ result: { audit_id: string; history_digest: string } }[]>(
      "select drift_guard.undo_repair($1::uuid, $2, $3::text::jsonb) as result",
      [auditId, reason, JSON.stringify(actor)],
    );
    return row.result;
  } catch (err) {
    throw repairError(err);
  }
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
  options: { definitions?: DefinitionEvidenceOptions } = {},
): Promise<RepairPlan> {
  const remote = await readHistory(sql, knownStatements(local));
  if (expectDigest !== undefined) {
    const current = historyDigest(remote ?? []);
    if (current !== expectDigest) {
      throw new DriftGuardError("digest_mismatch", `the history changed since the plan was made: it is now ${current}`, "plan again (without --apply or expect_digest) and review the new plan");
    }
  }
  // Marking a local-only migration applied: compare what it builds with what is live first.
  const remoteVersions = new Set((remote ?? []).map((r) => r.version));
  const marked = new Set(request.markApplied ?? []);
  const toInsert = local.filter((m) => marked.has(m.version) && !remoteVersions.has(m.version));
  const evidence = toInsert.length ? await collectDefinitionEvidence(sql, local, toInsert, remoteVersions, options.definitions) : undefined;
  const plan = planRepair(request, local, remote, evidence);
  if (expectDigest === undefined) return plan;
  refuseDifferent(plan);
  if (plan.changes.length === 0) return { ...plan, dry_run: false };
  const applied = await applyRepair(sql, plan, expectDigest, actor);
  return { ...plan, dry_run: false, history_digest: applied.history_digest, audit_id: applied.audit_id };
}
