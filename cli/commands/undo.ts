/** `drift-guard undo`: restore the history rows a repair changed (audited too). */
import { Option } from "commander";
import { validateAuditId, validateReason } from "../../shared/repair_plan.ts";
import { EXIT } from "../../shared/types.ts";
import { undoRepair } from "../../db/repair.ts";
import { cliActor } from "../actor.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { warnIfInterrupted } from "../interrupt.ts";
import { writeJson } from "../lines.ts";
import { dbUrlOption, formatOption, requireDbUrl } from "../options.ts";

export const definition: CommandDefinition = {
  name: "undo",
  description: "restore the history rows a repair changed (audited too)",
  options: () => [
    dbUrlOption(),
    new Option("--audit-id <id>", "the audit_id of the repair to undo").makeOptionMandatory(),
    new Option("--reason <text>", "why (required)"),
    formatOption(["text", "json"]),
  ],
  exitCodes: [0, 2, 3, 4],
  examples: ['drift-guard undo --audit-id 7f50813c-009a-41e3-9616-ec72f847c37a --reason "the SQL never ran after all"'],
};

/**
 * Undoes the repair `auditId` names, and prints the new history digest and audit id.
 * @example await run(deps, { dbUrl, auditId, reason: "never ran", format: "text" })
 */
export async function run(deps: CliDeps, opts: { dbUrl?: string; auditId: string; reason?: string; format: "text" | "json" }): Promise<number> {
  const url = requireDbUrl(opts.dbUrl, "undo");
  const auditId = validateAuditId(opts.auditId);
  const reason = validateReason(opts.reason);
  const result = await warnIfInterrupted(
    deps,
    `while repair ${auditId} was being undone: the undo may have committed. Run \`drift-guard audit\` to see whether it is recorded.`,
    () => withDatabase(deps, url, (sql) => undoRepair(sql, auditId, reason, cliActor())),
  );
  if (opts.format === "json") {
    writeJson(deps.stdout, { dry_run: false, ...result, undoes: auditId });
  } else {
    deps.stdout.write(`Undone ${auditId}. History is now ${result.history_digest}\nAudit id: ${result.audit_id}\n`);
  }
  return EXIT.ok;
}
