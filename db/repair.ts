/** Calls the guarded SQL functions of the drift_guard schema. */
import { historyDigest } from "../shared/checksum.ts";
import { planRepair, type RepairRequest } from "../shared/repair_plan.ts";
import type { LocalMigration, RepairPlan } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import type { Sql } from "./connect.ts";
import { knownStatements, readHistory } from "./history.ts";
import { linkLedger } from "./ledger.ts";

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
  // The repair and the ledger links it implies commit together.
  const markedApplied = new Set(plan.changes.filter((c) => c.op !== "delete").map((c) => c.version));
  const { applied, linked } = await sql.begin(async (tx) => {
    const applied = await applyRepair(tx as unknown as Sql, plan, expectDigest, actor);
    const linked = await linkLedger(tx as unknown as Sql, applied.audit_id, local.filter((m) => markedApplied.has(m.version)));
    return { applied, linked };
  });
  return { ...plan, dry_run: false, history_digest: applied.history_digest, audit_id: applied.audit_id, ledger_linked: linked };
}
