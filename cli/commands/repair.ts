/** `drift-guard repair`: plan (default) or apply a guarded history repair. */
import { Option } from "commander";
import { historyRepairFlags, historyRepairRequest } from "../../shared/history_repair_options.ts";
import { repairJson, type RepairRequest, validateRepairRequest } from "../../shared/repair_plan.ts";
import { alignedTable } from "../../shared/report_formats/text.ts";
import { shellArg } from "../../shared/shell_arg.ts";
import { visible } from "../../shared/report_formats/text_escape.ts";
import { DriftGuardError, EXIT } from "../../shared/types.ts";
import { collectDefinitionEvidence } from "../../db/definition_evidence.ts";
import { repairHistory } from "../../db/repair.ts";
import { cliActor } from "../actor.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { warnIfInterrupted } from "../interrupt.ts";
import { writeJson } from "../lines.ts";
import { readMigrationsDir } from "../local_migrations.ts";
import { dbUrlOption, formatOption, migrationsOption, requireDbUrl } from "../options.ts";

export const definition: CommandDefinition = {
  name: "repair",
  description: "plan (default) or apply a guarded history repair",
  options: () => [
    dbUrlOption(),
    migrationsOption(),
    new Option("--mark-applied <versions...>", "record versions as applied, as `supabase migration repair --status applied` does"),
    new Option("--mark-reverted <versions...>", "delete history rows, as `supabase migration repair --status reverted` does"),
    new Option("--move <version>", "rewrite this history row's version to --to's (one migration recorded under another version; docs/whole-history.md)"),
    new Option("--to <version>", "with --move: the local file's version"),
    new Option("--squash <versions...>", "delete these history rows, folded into the file --into names, and record that file"),
    new Option("--into <versions...>", "with --squash: the squash file's version, and the file recording what else those rows left live (drift-guard fetch --live-definitions writes it)"),
    new Option("--reason <text>", "why: kept in the audit log (required)"),
    new Option("--apply", "write the plan; requires --expect-digest with the dry run's plan digest"),
    new Option("--expect-digest <digest>", "the plan_digest of the dry run you reviewed: it pins the history and every change's content"),
    new Option("--expect-plan-digest <digest>", "the plan_digest, when --expect-digest gives the history_digest"),
    new Option("--force-different", "mark applied even migrations whose objects exist live with other definitions (after recording the live definitions in a new migration)"),
    formatOption(["text", "json"]),
  ],
  help: `Before --mark-applied records a local-only migration, what it builds (replayed in the embedded shadow)
is compared with the live database. A migration whose objects exist with other definitions is
"different": the plan lists each difference, and applying it needs --force-different, once a new
migration records the live definitions (drift-guard check prints that SQL).`,
  exitCodes: [0, 2, 3, 4],
  examples: [
    'drift-guard repair --mark-applied 004 008 --reason "ran by hand in 2024"',
    'drift-guard repair --mark-applied 004 008 --reason "ran by hand in 2024" --apply --expect-digest sha256:…   # the dry run\'s plan_digest',
  ],
};

export interface RepairOptions {
  dbUrl?: string;
  migrations: string;
  markApplied?: string[];
  markReverted?: string[];
  move?: string;
  to?: string;
  squash?: string[];
  into?: string[];
  reason?: string;
  apply?: boolean;
  expectDigest?: string;
  expectPlanDigest?: string;
  forceDifferent?: boolean;
  format: "text" | "json";
}

/** The flags that say what to repair: which marks or whole-history repair, and why. */
export type RepairSelection = Pick<RepairOptions, "markApplied" | "markReverted" | "move" | "to" | "squash" | "into" | "reason" | "forceDifferent">;

/**
 * The repair request the flags describe (not yet validated). `drift-guard mcp` builds its requests here too.
 *
 * @example repairRequestFrom({ move: "20260105093000", to: "20260102000000", reason: "renumbered" }) // { move: { from: …, to: … }, reason: "renumbered", forceDifferent: false }
 */
export function repairRequestFrom(opts: RepairSelection): RepairRequest {
  return { markApplied: opts.markApplied, markReverted: opts.markReverted, reason: opts.reason, forceDifferent: opts.forceDifferent === true, ...historyRepairRequest(opts) };
}

/**
 * The command that applies exactly the plan whose digest is `planDigest`, as the dry run prints it.
 *
 * @example applyCommandLine({ migrations: "supabase/migrations", markApplied: ["004"] }, "ran by hand", false, "sha256:…") // "drift-guard repair --mark-applied 004 --reason 'ran by hand' --apply --expect-digest sha256:…"
 */
export function applyCommandLine(opts: Pick<RepairOptions, "migrations" | "markApplied" | "markReverted" | "move" | "to" | "squash" | "into">, reason: string, forceDifferent: boolean, planDigest: string): string {
  const flag = opts.markApplied?.length ? `--mark-applied ${opts.markApplied.join(" ")}` : historyRepairFlags(opts) ?? `--mark-reverted ${opts.markReverted!.join(" ")}`;
  const dir = opts.migrations === "supabase/migrations" ? "" : ` --migrations ${shellArg(opts.migrations)}`;
  return `drift-guard repair${dir} ${flag}${forceDifferent ? " --force-different" : ""} --reason ${shellArg(reason)} --apply --expect-digest ${planDigest}`;
}

/**
 * Prints the plan (a dry run), or applies it when `apply` and the plan digest still matches.
 * @example await run(deps, { dbUrl, migrations: "supabase/migrations", markApplied: ["004"], reason: "ran by hand", format: "text" })
 */
export async function run(deps: CliDeps, opts: RepairOptions): Promise<number> {
  const url = requireDbUrl(opts.dbUrl, "repair");
  if (opts.apply && !opts.expectDigest && !opts.expectPlanDigest) {
    throw new DriftGuardError("usage", "--apply needs --expect-digest P: the plan_digest of the plan you reviewed", "run without --apply first; it prints the exact command");
  }
  for (const [flag, value] of [["--expect-digest", opts.expectDigest], ["--expect-plan-digest", opts.expectPlanDigest]]) {
    if (value !== undefined && !/^sha256:[0-9a-f]{64}$/.test(value)) throw new DriftGuardError("usage", `${flag} must look like sha256:<64 hex digits>`);
  }
  const request = repairRequestFrom(opts);
  validateRepairRequest(request);
  const parsed = await readMigrationsDir(opts.migrations, deps);
  const plan = () => withDatabase(deps, url, (sql) => repairHistory(sql, request, parsed.migrations, opts.apply ? { digest: opts.expectDigest, planDigest: opts.expectPlanDigest } : undefined, cliActor(), {
    judgeDefinitions: collectDefinitionEvidence,
  }));
  const result = opts.apply
    ? await warnIfInterrupted(deps, "while the repair was being applied: it may have committed. Run `drift-guard audit` to see whether it is recorded; `drift-guard undo --audit-id <id>` reverses it.", plan)
    : await plan();

  if (opts.format === "json") {
    writeJson(deps.stdout, repairJson(result));
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
    const force = result.force_different === true && (result.different?.length ?? 0) > 0;
    lines.push("", "To apply exactly this plan:", `  ${applyCommandLine(opts, result.reason, force, result.plan_digest)}`);
  } else if (result.audit_id) {
    lines.push(`Audit id: ${result.audit_id}`, `Undo with: drift-guard undo --audit-id ${result.audit_id} --reason "<why>"`);
    if (result.ledger_linked) lines.push(`Linked ${result.ledger_linked} untracked ledger entr${result.ledger_linked === 1 ? "y" : "ies"} to the versions marked applied (drift-guard ledger shows them)`);
  }
  deps.stdout.write(lines.map(visible).join("\n") + "\n");
  return EXIT.ok;
}
