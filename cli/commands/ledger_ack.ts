/** `drift-guard ledger ack`: acknowledge untracked ledger entries as reviewed (audited like a repair). */
import { Option } from "commander";
import { validateReason } from "../../shared/repair_plan.ts";
import { EXIT } from "../../shared/types.ts";
import { acknowledgeLedger, parseLedgerIds } from "../../db/ledger.ts";
import { cliActor } from "../actor.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { requireLedger } from "../installed.ts";
import { writeJson } from "../lines.ts";
import { dbUrlOption, formatOption, requireDbUrl } from "../options.ts";

export const definition: CommandDefinition = {
  name: "ledger ack",
  description: "acknowledge untracked entries as reviewed (audited like a repair)",
  options: () => [
    dbUrlOption(),
    new Option("--id <ids...>", "ledger entry ids (drift-guard ledger lists them)"),
    new Option("--reason <text>", "why: kept in the audit log (required)"),
    formatOption(["text", "json"]),
  ],
  exitCodes: [0, 2, 3],
  examples: ['drift-guard ledger ack --id 41 42 --reason "hotfix, now in 20251020000000_hotfix.sql"'],
};

/**
 * Acknowledges the entries; says how many already were.
 * @example await run(deps, { dbUrl, id: ["41"], reason: "hotfix", format: "text" })
 */
export async function run(deps: CliDeps, opts: { dbUrl?: string; id?: string[]; reason?: string; format: "text" | "json" }): Promise<number> {
  const url = requireDbUrl(opts.dbUrl, "ledger ack");
  const ids = parseLedgerIds(opts.id ?? []);
  const reason = validateReason(opts.reason);
  const result = await withDatabase(deps, url, async (sql) => {
    await requireLedger(sql);
    return await acknowledgeLedger(sql, ids, reason, cliActor());
  });
  if (opts.format === "json") {
    writeJson(deps.stdout, { acknowledged: result.acknowledged, audit_id: result.audit_id, ids });
  } else {
    deps.stdout.write(`acknowledged ${result.acknowledged} ledger entr${result.acknowledged === 1 ? "y" : "ies"} (${ids.length - result.acknowledged} already were)\nAudit id: ${result.audit_id}\n`);
  }
  return EXIT.ok;
}
