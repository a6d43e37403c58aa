/** Calls the guarded SQL functions of the drift_guard schema. */
import { historyDigest } from "../shared/checksum.ts";
import { planHistoryRepair } from "../shared/history_repair.ts";
import { planRepair, refuseDifferent, type RepairRequest, validateAuditId, validateRepairRequest } from "../shared/repair_plan.ts";
import type { LocalMigration, RepairPlan } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import type { Sql } from "./connect.ts";
import type { DefinitionJudge } from "./report.ts";
import { knownStatements, readHistory } from "./history.ts";
import { linkLedger } from "./ledger.ts";

export type Actor = Record<string, unknown>;

export async function applyRepair(sql: Sql, plan: RepairPlan, expectedDigest: string, actor: Actor): Promise<{ audit_id: string; history_digest: string }> {
  const changes = plan.changes.map((c) => ({ op: c.op, version: c.version, name: c.name, statements: c.statements ?? null }));
  const planRecord = {
    changes: plan.changes.map(({ op, version, name, statements_checksum }) => ({ op, version, name, statements_checksum: statements_checksum ?? null })),
    explain: plan.explain,
    planned_against: plan.history_digest,
    plan_digest: plan.plan_digest,
  };
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
 * What the reviewer pins when applying. `digest` is `--expect-digest` /
 * `expect_digest`: the dry run's plan digest, which pins the history and every
 * change's content; given together with `planDigest`, it is the history digest.
 */
export interface RepairExpectation {
  digest?: string;
  planDigest?: string;
}

/**
 * The whole guarded repair, as both the CLI and the function run it: without
 * `expect` a dry-run plan; with it, apply only if the history is still the one
 * the plan was made against and the plan (every change's version, name and
 * statement checksum) is still the one that was reviewed. The content is read
 * again at apply time (files, newest manifest), so the plan digest (which pins
 * every statement byte for byte) is what stops a swapped manifest from writing what nobody reviewed: a history digest
 * alone pins none of it and is refused. A stale history digest is a conflict
 * even when the plan would no longer validate; the SQL function checks the
 * history digest again under its lock.
 *
 * @example await repairHistory(sql, { markReverted: ["1"], reason: "x" }, local, { digest: plan.plan_digest }, actor)
 */
export async function repairHistory(
  sql: Sql,
  request: RepairRequest,
  local: readonly LocalMigration[],
  expect: RepairExpectation | undefined,
  actor: Actor,
  /** Without judgeDefinitions (the deployed function), the plan carries no definition evidence. */
  options: { judgeDefinitions?: DefinitionJudge } = {},
): Promise<RepairPlan> {
  // Bad input is bad input (exit 2 / 400) whatever digest comes with it: checked before any digest.
  validateRepairRequest(request);
  const remote = await readHistory(sql, knownStatements(local));
  const current = historyDigest(remote ?? []);
  const pinned = expect?.planDigest ?? expect?.digest;
  if (expect && expect.planDigest === undefined && expect.digest === current) {
    throw new DriftGuardError(
      "bad_input",
      "that is the history digest, which does not pin what the repair writes",
      "pass the dry run's plan_digest instead: --expect-digest <plan_digest> (HTTP: \"expect_digest\": \"<plan_digest>\")",
    );
  }
  if (expect?.planDigest !== undefined && expect.digest !== undefined && current !== expect.digest) {
    throw new DriftGuardError("digest_mismatch", `the history changed since the plan was made: it is now ${current}`, "plan again (dry run) and review the new plan");
  }
  // Marking a local-only migration applied: compare what it builds with what is live first.
  const remoteVersions = new Set((remote ?? []).map((r) => r.version));
  const marked = new Set(request.markApplied ?? []);
  const toInsert = local.filter((m) => marked.has(m.version) && !remoteVersions.has(m.version));
  const evidence = toInsert.length && options.judgeDefinitions ? await options.judgeDefinitions(sql, local, toInsert, remoteVersions, {}) : undefined;
  const makePlan = () =>
    request.move || request.squash
      ? planHistoryRepair({ move: request.move, squash: request.squash, reason: validateRepairRequest(request).reason }, local, remote)
      : planRepair(request, local, remote, evidence);
  if (expect === undefined) return makePlan();
  let plan: RepairPlan;
  try {
    plan = makePlan();
  } catch (err) {
    // The reviewed plan was valid when it was made; one that no longer plans means the history or the files moved since.
    if (!(err instanceof DriftGuardError)) throw err;
    throw new DriftGuardError("digest_mismatch", `the plan changed since it was reviewed: it no longer applies (${err.message})`, "plan again (dry run) and review the new plan");
  }
  if (plan.plan_digest !== pinned) {
    throw new DriftGuardError(
      "digest_mismatch",
      `the plan changed since it was reviewed: it is now ${plan.plan_digest} (history ${current})`,
      "the history or the content to be written (files or manifest) changed; plan again (dry run) and review the new plan",
    );
  }
  refuseDifferent(plan);
  if (plan.changes.length === 0) return { ...plan, dry_run: false };
  // The repair and the ledger links it implies commit together.
  const markedApplied = new Set(plan.changes.filter((c) => c.op !== "delete").map((c) => c.version));
  const { applied, linked } = await sql.begin(async (tx) => {
    const applied = await applyRepair(tx as unknown as Sql, plan, plan.history_digest, actor);
    const linked = await linkLedger(tx as unknown as Sql, applied.audit_id, local.filter((m) => markedApplied.has(m.version)));
    return { applied, linked };
  });
  return { ...plan, dry_run: false, history_digest: applied.history_digest, audit_id: applied.audit_id, ledger_linked: linked };
}
