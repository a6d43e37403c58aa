/**
 * Requested marks + current history -> a repair plan. Mirrors the Supabase
 * CLI's semantics exactly, and says so in words:
 * - mark applied  = `migration repair --status applied`: write the row (version,
 *   name, the local file's statements). No SQL runs.
 * - mark reverted = `migration repair --status reverted`: DELETE the row. The
 *   SQL it ran stays in the database; `db push` runs it again whenever its file is present.
 */
import { compareCodePoints, historyDigest, sha256Hex, statementsChecksum, statementsEncoding, utf8Length } from "./checksum.ts";
import type { Evidence, LocalMigration, RemoteMigration, RepairChange, RepairPlan } from "./types.ts";
import { DriftGuardError } from "./types.ts";

export interface RepairRequest {
  markApplied?: readonly string[];
  markReverted?: readonly string[];
  reason?: string;
  /**
   * Mark applied even migrations whose objects exist live with other definitions
   * (evidence `different`): the user recorded the live definitions in a new migration.
   */
  forceDifferent?: boolean;
  /** Rewrite one history row's version to its file's (shared/history_repair.ts). */
  move?: { from: string; to: string };
  /** Delete rows folded into one file and record that file (shared/history_repair.ts). */
  squash?: { rows: readonly string[]; into: readonly string[] };
}

const sameStatements = (a: readonly string[] | null, b: readonly string[]) =>
  a !== null && a.length === b.length && a.every((s, i) => s === b[i]);

export function validateReason(reason: string | undefined): string {
  const r = reason?.trim() ?? "";
  if (!r) throw new DriftGuardError("usage", "a reason is required (--reason, or \"reason\" in the body): it is kept in the audit log", 'e.g. --reason "ran by hand during the 2025-10 incident"');
  if (r.length > 2000) throw new DriftGuardError("bad_input", "the reason is longer than 2000 characters");
  // Postgres text cannot hold U+0000: refuse it here rather than fail in the database.
  if (r.includes("\u0000")) throw new DriftGuardError("bad_input", "the reason contains a NUL character (U+0000), which Postgres cannot store");
  return r;
}

const AUDIT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An audit id as `drift-guard audit` prints it: a UUID with dashes, lowercased.
 * @example validateAuditId("7F50813C-009A-41E3-9616-EC72F847C37A") // "7f50813c-009a-41e3-9616-ec72f847c37a"
 */
export function validateAuditId(id: string | undefined): string {
  const trimmed = (id ?? "").trim();
  if (!AUDIT_ID.test(trimmed)) {
    throw new DriftGuardError("bad_input", `${JSON.stringify(trimmed.slice(0, 80))} is not an audit id (a UUID such as 7f50813c-009a-41e3-9616-ec72f847c37a)`, "drift-guard audit lists them");
  }
  return trimmed.toLowerCase();
}

/** Checks the request's shape before anything touches a database. */
export function validateRepairRequest(request: RepairRequest): { applied: string[]; reverted: string[]; reason: string } {
  const applied = [...new Set(request.markApplied ?? [])];
  const reverted = [...new Set(request.markReverted ?? [])];
  if (applied.length && reverted.length) {
    throw new DriftGuardError("usage", "give --mark-applied or --mark-reverted, not both", "run two repairs, each with its own reason");
  }
  const history = request.move !== undefined || request.squash !== undefined;
  if (history && (applied.length || reverted.length)) {
    throw new DriftGuardError("usage", "give --move or --squash alone, without --mark-applied or --mark-reverted", "run two repairs, each with its own reason");
  }
  if (!applied.length && !reverted.length && !history) {
    throw new DriftGuardError("usage", "nothing to repair: give --mark-applied V… or --mark-reverted V… (or --move V --to W, --squash V… --into S)");
  }
  const reason = validateReason(request.reason);
  const historyVersions = [
    ...(request.move ? [request.move.from, request.move.to] : []),
    ...(request.squash ? [...request.squash.rows, ...request.squash.into] : []),
  ];
  for (const v of [...applied, ...reverted, ...historyVersions]) {
    if (!/^[0-9]+$/.test(v)) throw new DriftGuardError("unknown_version", `"${v}" is not a migration version (digits, as in <version>_<name>.sql)`);
  }
  return { applied, reverted, reason };
}

/**
 * The plan. `evidence` (by version, for the local-only versions to mark applied) adds what the
 * live database has of each; a `different` one is listed in `different` and refused at apply
 * time unless `forceDifferent` (see refuseDifferent).
 *
 * @example
 * planRepair({ markApplied: ["004"], reason: "ran by hand" }, local, remote, evidence).different // [{ version: "004", … }]
 */
export function planRepair(
  request: RepairRequest,
  local: readonly LocalMigration[],
  remote: readonly RemoteMigration[] | null,
  evidence?: ReadonlyMap<string, Evidence>,
): RepairPlan {
  const { applied, reverted, reason } = validateRepairRequest(request);
  const rows = remote ?? [];
  const localBy = new Map(local.map((m) => [m.version, m]));
  const remoteBy = new Map(rows.map((r) => [r.version, r]));
  const changes: RepairChange[] = [];
  const explain: string[] = [];
  const different: NonNullable<RepairPlan["different"]> = [];

  for (const version of applied) {
    const file = localBy.get(version);
    if (!file) {
      throw new DriftGuardError("unknown_version", `cannot mark ${version} applied: no local migration file has that version`, "mark-applied records the local file's statements; fetch or restore the file first");
    }
    const row = remoteBy.get(version);
    if (!row) {
      changes.push({ op: "insert", version, name: file.name, statements: file.statements, statements_checksum: statementsChecksum(file.statements) });
      explain.push(`insert ${version}: record ${file.path} as applied (${file.statements.length} statement(s)); no SQL runs`);
      const e = evidence?.get(version);
      if (e) explain.push(...evidenceExplain(version, e, request.forceDifferent === true));
      if (e?.verdict === "different") different.push({ version, differences: e.differences ?? [] });
    } else if (row.name !== file.name || !sameStatements(row.statements, file.statements)) {
      changes.push({ op: "update", version, name: file.name, statements: file.statements, statements_checksum: statementsChecksum(file.statements) });
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
    changes.push({ op: "delete", version, name: row.name ?? "", statements_checksum: null });
    explain.push(`delete ${version}: remove the history row (kept in the audit for undo). The SQL it ran stays in the database, and db push will run it again whenever its file is present`);
  }

  const history_digest = historyDigest(rows);
  return {
    dry_run: true,
    history_digest,
    plan_digest: planDigest(history_digest, changes),
    changes,
    audit_id: null,
    reason,
    explain,
    ...(different.length ? { different, force_different: request.forceDifferent === true } : {}),
  };
}

/** What the evidence says about marking one version applied, for the plan's explanation. */
function evidenceExplain(version: string, e: Evidence, forced: boolean): string[] {
  switch (e.verdict) {
    case "identical":
      return [`${version}: what it builds is identical to the live database`];
    case "different":
      return [
        `${version}: DIFFERENT: its objects exist live, but not as the file builds them: ${(e.differences ?? []).join("; ")}`,
        forced
          ? `${version}: --force-different: recorded as applied anyway (you recorded the live definitions in a new migration)`
          : `${version}: first record the live definitions in a new migration (drift-guard check prints the SQL), then plan again with --force-different`,
      ];
    case "absent":
      return [`${version}: WARNING: none of what it builds is live; marking it applied records SQL that never ran (db push --include-all would run it)`];
    case "partial":
      return [`${version}: WARNING: only part of what it builds is live`];
    case "unknown":
      return [`${version}: definitions not compared: ${e.reason ?? "unknown"}`];
    default:
      return [];
  }
}

/** Applying a plan that marks `different` migrations applied needs --force-different ("force_different": true). */
export function refuseDifferent(plan: RepairPlan): void {
  if (!plan.different?.length || plan.force_different) return;
  const first = plan.different[0];
  throw new DriftGuardError(
    "bad_input",
    `${plan.different.map((d) => d.version).join(", ")}: the live database has other definitions than the file builds (${first.differences.slice(0, 3).join("; ")}${first.differences.length > 3 ? "; …" : ""}); marking it applied would record SQL that never ran this way`,
    "record the live definitions in a new migration first (drift-guard check prints the SQL), then repeat with --force-different (HTTP: \"force_different\": true)",
  );
}

/**
 * Digest of what a repair will write: the history it was planned against and,
 * for every change, its op, version, name, statement checksum and the exact
 * statements it writes, byte for byte (a comment the checksum ignores is still
 * written). Apply recomputes the plan and refuses unless this matches the digest
 * the reviewer saw, so a manifest or file swapped after review cannot ride on an
 * old plan. Fields are length-prefixed; changes are ordered by version.
 *
 * @example planDigest("sha256:ab…", [{ op: "delete", version: "1", name: "a", statements_checksum: null }]) // "sha256:…"
 */
export function planDigest(historyDigestValue: string, changes: readonly RepairChange[]): string {
  const field = (s: string | null | undefined) => (s === null || s === undefined ? "-" : `${utf8Length(s)}:${s}`);
  const lines = [...changes]
    .sort((a, b) => compareCodePoints(a.version, b.version))
    .map((c) => `${field(c.op)}|${field(c.version)}|${field(c.name)}|${field(c.statements_checksum)}|${c.statements ? statementsEncoding(c.statements) : "-"}`);
  return `sha256:${sha256Hex(["drift-guard plan v2", field(historyDigestValue), ...lines].join("\n"))}`;
}

/** The public shape of a plan (contract: Repair JSON). Statements stay out of the output; the audit keeps them. */
export function repairJson(plan: RepairPlan): Record<string, unknown> {
  return {
    dry_run: plan.dry_run,
    history_digest: plan.history_digest,
    plan_digest: plan.plan_digest,
    changes: plan.changes.map(({ op, version, name, statements_checksum }) => ({ op, version, name, statements_checksum: statements_checksum ?? null })),
    audit_id: plan.audit_id,
    reason: plan.reason,
    explain: plan.explain,
    ...(plan.ledger_linked !== undefined ? { ledger_linked: plan.ledger_linked } : {}),
    ...(plan.different ? { different: plan.different, force_different: plan.force_different ?? false } : {}),
  };
}
