/**
 * Requested marks + current history -> a repair plan. Mirrors the Supabase
 * CLI's semantics exactly, and says so in words:
 * - mark applied  = `migration repair --status applied`: write the row (version,
 *   name, the local file's statements). No SQL runs.
 * - mark reverted = `migration repair --status reverted`: DELETE the row. The
 *   SQL it ran stays in the database; `db push` runs it again whenever its file is present.
 */
import { historyDigest } from "./checksum.ts";
import type { LocalMigration, RemoteMigration, RepairChange, RepairPlan } from "./types.ts";
import { DriftGuardError } from "./types.ts";

export interface RepairRequest {
  markApplied?: readonly string[];
  markReverted?: readonly string[];
  reason?: string;
}

const sameStatements = (a: readonly string[] | null, b: readonly string[]) =>
  a !== null && a.length === b.length && a.every((s, i) => s === b[i]);

export function validateReason(reason: string | undefined): string {
  const r = reason?.trim() ?? "";
  if (!r) throw new DriftGuardError("usage", "a reason is required (--reason, or \"reason\" in the body): it is kept in the audit log", 'e.g. --reason "ran by hand during the 2025-10 incident"');
  if (r.length > 2000) throw new DriftGuardError("bad_input", "the reason is longer than 2000 characters");
  return r;
}

/** Checks the request's shape before anything touches a database. */
export function validateRepairRequest(request: RepairRequest): { applied: string[]; reverted: string[]; reason: string } {
  const applied = [...new Set(request.markApplied ?? [])];
  const reverted = [...new Set(request.markReverted ?? [])];
  if (applied.length && reverted.length) {
    throw new DriftGuardError("usage", "give --mark-applied or --mark-reverted, not both", "run two repairs, each with its own reason");
  }
  if (!applied.length && !reverted.length) {
    throw new DriftGuardError("usage", "nothing to repair: give --mark-applied V… or --mark-reverted V…");
  }
  const reason = validateReason(request.reason);
  for (const v of [...applied, ...reverted]) {
    if (!/^[0-9]+$/.test(v)) throw new DriftGuardError("unknown_version", `"${v}" is not a migration version (digits, as in <version>_<name>.sql)`);
  }
  return { applied, reverted, reason };
}

export function planRepair(request: RepairRequest, local: readonly LocalMigration[], remote: readonly RemoteMigration[] | null): RepairPlan {
  const { applied, reverted, reason } = validateRepairRequest(request);
  const rows = remote ?? [];
  const localBy = new Map(local.map((m) => [m.version, m]));
  const remoteBy = new Map(rows.map((r) => [r.version, r]));
  const changes: RepairChange[] = [];
  const explain: string[] = [];

  for (const version of applied) {
    const file = localBy.get(version);
    if (!file) {
      throw new DriftGuardError("unknown_version", `cannot mark ${version} applied: no local migration file has that version`, "mark-applied records the local file's statements; fetch or restore the file first");
    }
    const row = remoteBy.get(version);
    if (!row) {
      changes.push({ op: "insert", version, name: file.name, statements: file.statements });
      explain.push(`insert ${version}: record ${file.path} as applied (${file.statements.length} statement(s)); no SQL runs`);
    } else if (row.name !== file.name || !sameStatements(row.statements, file.statements)) {
      changes.push({ op: "update", version, name: file.name, statements: file.statements });
      explain.push(`update ${version}: replace the recorded name and statements with those of ${file.path}; no SQL runs`);
    } else {
      explain.push(`skip ${version}: already recorded exactly as ${file.path}`);
    }
  }
  for (const version of reverted) {
    const row = remoteBy.get(version);
    if (!row) {
      throw new DriftGuardError("unknown_version", `cannot mark ${version} reverted: it is not in the migration history`, "drift-guard check lists the versions the history holds");
    }
    changes.push({ op: "delete", version, name: row.name ?? "" });
    explain.push(`delete ${version}: remove the history row (kept in the audit for undo). The SQL it ran stays in the database, and db push will run it again whenever its file is present`);
  }

  return { dry_run: true, history_digest: historyDigest(rows), changes, audit_id: null, reason, explain };
}

/** The public shape of a plan (contract: Repair JSON). Statements stay out of the output; the audit keeps them. */
export function repairJson(plan: RepairPlan): Record<string, unknown> {
  return {
    dry_run: plan.dry_run,
    history_digest: plan.history_digest,
    changes: plan.changes.map(({ op, version, name }) => ({ op, version, name })),
    audit_id: plan.audit_id,
    reason: plan.reason,
    explain: plan.explain,
    ...(plan.ledger_linked !== undefined ? { ledger_linked: plan.ledger_linked } : {}),
  };
}
