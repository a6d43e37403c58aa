/**
 * The repairs whole-history findings suggest (shared/history_matching.ts), as
 * the history ops every repair uses (insert / update / delete): the same
 * preview, plan digest, lock, audit and undo as --mark-applied.
 *
 *   --move V --to W          one migration recorded under another version: delete row V,
 *                            insert W with the local file's name and statements. No SQL runs;
 *                            no committed file changes. Refused unless V's stored SQL is W's.
 *   --squash V… --into S [C] rows folded into one file: delete the rows, record S with the
 *                            file's statements (update when S is in the history, insert otherwise),
 *                            and C, the file recording what else those rows left live, when there is one.
 */
import { historyDigest, statementsChecksum } from "./checksum.ts";
import { planDigest } from "./repair_plan.ts";
import type { LocalMigration, RemoteMigration, RepairChange, RepairPlan } from "./types.ts";
import { DriftGuardError } from "./types.ts";

export interface HistoryRepairRequest {
  move?: { from: string; to: string };
  squash?: { rows: readonly string[]; into: readonly string[] };
  reason: string;
}

const VERSION = /^[0-9]+$/;

function checkVersion(v: string): string {
  if (!VERSION.test(v)) throw new DriftGuardError("unknown_version", `"${v}" is not a migration version (digits, as in <version>_<name>.sql)`);
  return v;
}

/**
 * The plan for a move or a squash; `reason` must already be validated (validateReason).
 *
 * @example
 * planHistoryRepair({ move: { from: "20260105093000", to: "20260102000000" }, reason: "agent re-versioned it" }, local, remote).changes
 *   // [{ op: "insert", version: "20260102000000", … }, { op: "delete", version: "20260105093000", … }]
 */
export function planHistoryRepair(request: HistoryRepairRequest, local: readonly LocalMigration[], remote: readonly RemoteMigration[] | null): RepairPlan {
  const rows = remote ?? [];
  const localBy = new Map(local.map((m) => [m.version, m]));
  const remoteBy = new Map(rows.map((r) => [r.version, r]));
  const changes: RepairChange[] = [];
  const explain: string[] = [];
  const record = (file: LocalMigration) => {
    const row = remoteBy.get(file.version);
    const op = row ? "update" : "insert";
    changes.push({ op, version: file.version, name: file.name, statements: file.statements, statements_checksum: statementsChecksum(file.statements) });
    explain.push(`${op} ${file.version}: record ${file.path} as applied (${file.statements.length} statement(s)); no SQL runs`);
  };
  const deleteRow = (version: string, why: string) => {
    const row = remoteBy.get(version);
    if (!row) throw new DriftGuardError("unknown_version", `${version} is not in the migration history`, "drift-guard check lists the versions the history holds");
    if (localBy.has(version)) {
      throw new DriftGuardError("bad_input", `${version} has a local file: only a history row without a file can be ${why}`, "drift-guard check shows the findings and their commands");
    }
    changes.push({ op: "delete", version, name: row.name ?? "", statements_checksum: null });
    return row;
  };

  if (request.move && request.squash) throw new DriftGuardError("usage", "give --move or --squash, not both", "run two repairs, each with its own reason");
  if (request.move) {
    const from = checkVersion(request.move.from);
    const to = checkVersion(request.move.to);
    if (from === to) throw new DriftGuardError("usage", "--move and --to name the same version");
    const file = localBy.get(to);
    if (!file) throw new DriftGuardError("unknown_version", `no local migration file has version ${to}`, "--to names the file's version; the history row moves to it");
    if (remoteBy.has(to)) throw new DriftGuardError("bad_input", `${to} is already in the history: moving ${from} onto it would record one migration twice`);
    const row = deleteRow(from, "moved");
    if (row.statements === null || statementsChecksum(row.statements) !== file.checksum) {
      throw new DriftGuardError(
        "bad_input",
        `history row ${from} does not hold the SQL of ${file.path}${row.statements === null ? " (it has no statements)" : ""}: moving it would record SQL that never ran under that version`,
        "--move is for one migration recorded under another version; compare with drift-guard check",
      );
    }
    record(file);
    explain.unshift(`move ${from} -> ${to}: the history row ${from} holds the same SQL as ${file.path}; it is recorded under the file's version and name, and row ${from} is deleted (kept in the audit for undo). No committed file changes`);
  } else if (request.squash) {
    const into = [...new Set(request.squash.into.map(checkVersion))];
    const squashed = [...new Set(request.squash.rows.map(checkVersion))];
    if (!squashed.length) throw new DriftGuardError("usage", "--squash needs the versions of the rows folded into the file");
    if (!into.length) throw new DriftGuardError("usage", "--into needs the squash file's version");
    const both = into.find((v) => squashed.includes(v));
    if (both !== undefined) throw new DriftGuardError("usage", `--into ${both} is also listed in --squash`);
    const files = into.map((v) => {
      const file = localBy.get(v);
      if (!file) throw new DriftGuardError("unknown_version", `no local migration file has version ${v}`, "--into names the squash file's version (and the file recording what else the rows left live)");
      return file;
    });
    for (const v of squashed) deleteRow(v, "squashed");
    for (const file of files) record(file);
    explain.unshift(
      `squash ${squashed.join(", ")} into ${into.join(" and ")}: the rows are deleted (kept in the audit for undo) and ${files.map((f) => f.path).join(" and ")} ` +
        `${files.length > 1 ? "are" : "is"} recorded with ${files.length > 1 ? "their" : "its"} statements, in one repair. No SQL runs`,
    );
  } else {
    throw new DriftGuardError("usage", "nothing to repair: give --move V --to W or --squash V… --into S");
  }

  const history_digest = historyDigest(rows);
  return { dry_run: true, history_digest, plan_digest: planDigest(history_digest, changes), changes, audit_id: null, reason: request.reason, explain };
}

/**
 * The history after a plan, to simulate the repaired project (no database involved).
 * @example historyAfter(remote, plan.changes).map((r) => r.version)
 */
export function historyAfter(remote: readonly RemoteMigration[], changes: readonly RepairChange[]): RemoteMigration[] {
  const rows = new Map(remote.map((r) => [r.version, r]));
  for (const c of changes) {
    if (c.op === "delete") rows.delete(c.version);
    else rows.set(c.version, { version: c.version, name: c.name, statements: c.statements ?? [] });
  }
  return [...rows.values()];
}
