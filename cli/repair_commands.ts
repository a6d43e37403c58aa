/** `drift-guard fetch`, `repair` and `undo`: the guarded history operations. */
import { hostname, userInfo } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { computeDrift } from "../shared/drift.ts";
import { fileNameFor, renderMigrationFile } from "../shared/migration_files.ts";
import { repairJson, validateAuditId, validateReason, validateRepairRequest } from "../shared/repair_plan.ts";
import { splitStatements } from "../shared/sql_statements.ts";
import { DriftGuardError, EXIT } from "../shared/types.ts";
import { knownStatements, readHistory } from "../db/history.ts";
import { collectDefinitionEvidence } from "../db/definition_evidence.ts";
import { type Actor, repairHistory, undoRepair } from "../db/repair.ts";
import { withDatabase } from "./database.ts";
import { warnIfInterrupted } from "./interrupt.ts";
import { readMigrationsDir } from "./local_migrations.ts";
import { alignedTable } from "../shared/report_formats/text.ts";
import { visible } from "../shared/report_formats/text_escape.ts";
import { progress } from "./progress.ts";
import { shellArg, writeNewFile } from "./new_file.ts";

function requireDbUrl(url: string | undefined): string {
  if (!url) throw new DriftGuardError("usage", "missing --db-url (or SUPABASE_DB_URL)", "drift-guard <command> --db-url postgresql://…");
  return url;
}

function cliActor(): Actor {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch { /* no passwd entry */ }
  return { via: "cli", user, host: hostname() };
}

export interface FetchOptions {
  dbUrl?: string;
  migrations: string;
  versions: string[];
}

export async function fetchCommand(opts: FetchOptions, _cmd?: unknown): Promise<number> {
  const url = requireDbUrl(opts.dbUrl);
  const parsed = await readMigrationsDir(opts.migrations);
  const remote = await withDatabase(url, (sql) => readHistory(sql, knownStatements(parsed.migrations)));
  const report = computeDrift({ local: parsed.migrations, remote, problems: parsed.problems });
  const remoteOnly = new Set(report.migrations.filter((m) => m.state === "remote_only").map((m) => m.version));
  const wanted = opts.versions.length ? opts.versions : [...remoteOnly];
  for (const v of wanted) {
    if (!remoteOnly.has(v)) {
      const known = report.migrations.some((m) => m.version === v);
      throw new DriftGuardError("unknown_version", known ? `${v} already has a local file; fetch writes remote-only migrations` : `${v} is not in the migration history`);
    }
  }
  const rows = new Map((remote ?? []).map((r) => [r.version, r]));
  let written = 0;
  let failed = 0;
  const bar = progress("fetching", wanted.length);
  for (const v of wanted) {
    bar.tick(written + failed);
    const row = rows.get(v)!;
    const fileName = fileNameFor(v, row.name);
    if (row.statements === null || fileName === null) {
      failed++;
      const why = row.statements === null
        ? "the history row has no statements to write out"
        : !/^[0-9]+$/.test(v)
        ? "its version is not digits, so it cannot be a migration file name"
        : `its name "${row.name}" cannot be a file name`;
      process.stderr.write(visible(`skipped ${v}: ${why}`) + "\n");
      continue;
    }
    const path = join(opts.migrations, fileName);
    const text = renderMigrationFile(row.statements);
    const roundTrips = JSON.stringify(splitStatements(text)) === JSON.stringify(row.statements);
    const refused = writeNewFile(path, text);
    if (refused) {
      failed++;
      process.stderr.write(visible(`skipped ${v}: ${refused}`) + "\n");
      continue;
    }
    written++;
    process.stdout.write(visible(`wrote ${path}${roundTrips ? "" : " (warning: the stored statements do not split back identically; review it)"}`) + "\n");
  }
  bar.done();
  process.stdout.write(`${written} file(s) written${failed ? `, ${failed} skipped` : ""}. Review and commit them.\n`);
  return failed ? EXIT.usage : EXIT.ok;
}

export interface RepairOptions {
  dbUrl?: string;
  migrations: string;
  markApplied?: string[];
  markReverted?: string[];
  reason?: string;
  apply?: boolean;
  expectDigest?: string;
  expectPlanDigest?: string;
  forceDifferent?: boolean;
  format: "text" | "json";
}

export async function repairCommand(opts: RepairOptions): Promise<number> {
  const url = requireDbUrl(opts.dbUrl);
  if (opts.apply && !opts.expectDigest && !opts.expectPlanDigest) {
    throw new DriftGuardError("usage", "--apply needs --expect-digest P: the plan_digest of the plan you reviewed", "run without --apply first; it prints the exact command");
  }
  for (const [flag, value] of [["--expect-digest", opts.expectDigest], ["--expect-plan-digest", opts.expectPlanDigest]]) {
    if (value !== undefined && !/^sha256:[0-9a-f]{64}$/.test(value)) throw new DriftGuardError("usage", `${flag} must look like sha256:<64 hex digits>`);
  }
  const request = { markApplied: opts.markApplied, markReverted: opts.markReverted, reason: opts.reason, forceDifferent: opts.forceDifferent === true };
  validateRepairRequest(request);
  const parsed = await readMigrationsDir(opts.migrations);
  const plan = () => withDatabase(url, (sql) => repairHistory(sql, request, parsed.migrations, opts.apply ? { digest: opts.expectDigest, planDigest: opts.expectPlanDigest } : undefined, cliActor(), {
    judgeDefinitions: collectDefinitionEvidence,
  }));
  const result = opts.apply
    ? await warnIfInterrupted("while the repair was being applied: it may have committed. Run `drift-guard audit` to see whether it is recorded; `drift-guard undo --audit-id <id>` reverses it.", plan)
    : await plan();

  if (opts.format === "json") {
    process.stdout.write(JSON.stringify(repairJson(result), null, 2) + "\n");
    return EXIT.ok;
  }
  const lines: string[] = [];
  lines.push(result.dry_run ? `Plan (dry run, nothing written) against history ${result.history_digest}` : `Applied. History is now ${result.history_digest}`);
  if (result.dry_run) lines.push(`Plan digest ${result.plan_digest}`);
  if (result.changes.length) {
    lines.push(...alignedTable(result.changes.map((c) => [`  ${c.op}`, c.version, c.name, c.statements_checksum ? `statements ${c.statements_checksum}` : ""])));
  } else {
    lines.push("  no changes: the history already records this");
  }
  lines.push("", ...result.explain.map((e) => `  - ${e}`), "", `Reason: ${result.reason}`);
  if (result.dry_run && result.changes.length && result.different?.length && !result.force_different) {
    lines.push(
      "",
      `Not applicable as is: ${result.different.map((d) => d.version).join(", ")} would record SQL that never ran this way.`,
      "  1. save the live definitions as a new migration (drift-guard check prints the SQL and the file name);",
      "  2. plan again, marking that migration applied too, with --force-different.",
    );
  } else if (result.dry_run && result.changes.length) {
    const flag = opts.markApplied?.length ? `--mark-applied ${opts.markApplied.join(" ")}` : `--mark-reverted ${opts.markReverted!.join(" ")}`;
    const force = result.force_different && result.different?.length ? " --force-different" : "";
    lines.push("", "To apply exactly this plan:", `  drift-guard repair ${flag}${force} --reason ${shellArg(result.reason)} --apply --expect-digest ${result.plan_digest}`);
  } else if (result.audit_id) {
    lines.push(`Audit id: ${result.audit_id}`, `Undo with: drift-guard undo --audit-id ${result.audit_id} --reason "<why>"`);
    if (result.ledger_linked) lines.push(`Linked ${result.ledger_linked} untracked ledger entr${result.ledger_linked === 1 ? "y" : "ies"} to the versions marked applied (drift-guard ledger shows them)`);
  }
  process.stdout.write(lines.map(visible).join("\n") + "\n");
  return EXIT.ok;
}

export async function undoCommand(opts: { dbUrl?: string; auditId: string; reason?: string; format: "text" | "json" }): Promise<number> {
  const url = requireDbUrl(opts.dbUrl);
  const auditId = validateAuditId(opts.auditId);
  const reason = validateReason(opts.reason);
  const result = await warnIfInterrupted(
    `while repair ${auditId} was being undone: the undo may have committed. Run \`drift-guard audit\` to see whether it is recorded.`,
    () => withDatabase(url, (sql) => undoRepair(sql, auditId, reason, cliActor())),
  );
  if (opts.format === "json") {
    process.stdout.write(JSON.stringify({ dry_run: false, ...result, undoes: auditId }, null, 2) + "\n");
  } else {
    process.stdout.write(`Undone ${auditId}. History is now ${result.history_digest}\nAudit id: ${result.audit_id}\n`);
  }
  return EXIT.ok;
}
