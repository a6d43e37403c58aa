/** `drift-guard ledger`: the DDL ledger, read. */
import { Option } from "commander";
import { LEDGER_FILTERS, type LedgerFilter, parseSince } from "../../shared/ledger.ts";
import { type LedgerFormat, renderLedger } from "../../shared/report_formats/ledger.ts";
import { DriftGuardError, EXIT } from "../../shared/types.ts";
import { ledgerState, readLedger } from "../../db/ledger.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { requireLedger } from "../installed.ts";
import { dbUrlOption, formatOption, requireDbUrl } from "../options.ts";
import { printReport } from "../output.ts";

export const definition: CommandDefinition = {
  name: "ledger",
  description: "the DDL ledger: every schema change, who made it, when, from where, and whether a migration recorded it",
  options: () => [
    dbUrlOption(),
    new Option("--since <when>", "entries since this ISO time or duration (7d, 24h, 90m)"),
    new Option("--until <when>", "entries before this ISO time or duration"),
    new Option("--object <text>", "entries whose object identity contains TEXT, e.g. automation_rules"),
    new Option("--status <status>", "which entries").choices([...LEDGER_FILTERS]).default("all"),
    new Option("--limit <n>", "at most N entries (the newest)").default("1000"),
    formatOption(["text", "json", "markdown"]),
  ],
  exitCodes: [0, 2, 3],
  examples: [
    "drift-guard ledger --status untracked --since 7d",
    "drift-guard ledger --object automation_rules --format json",
    'drift-guard ledger ack --id 41 42 --reason "hotfix, now in 20251020000000_hotfix.sql"',
  ],
  // `ledger ack --db-url … --format json`: flags after `ack` are ack's, not the listing's.
  positionalOptions: true,
};

export interface LedgerOptions {
  dbUrl?: string;
  since?: string;
  until?: string;
  object?: string;
  status: LedgerFilter;
  limit: string;
  format: LedgerFormat;
}

/**
 * Prints the ledger's entries; warns on stderr when its triggers are off or failing.
 * @example await run(deps, { dbUrl, status: "untracked", limit: "1000", format: "text" })
 */
export async function run(deps: CliDeps, opts: LedgerOptions): Promise<number> {
  const url = requireDbUrl(opts.dbUrl, "ledger");
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new DriftGuardError("usage", "--limit must be a whole number from 1 to 100000");
  const query = {
    since: opts.since ? parseSince(opts.since, deps.now()) : undefined,
    until: opts.until ? parseSince(opts.until, deps.now(), "--until") : undefined,
    object: opts.object,
    status: opts.status,
    limit,
  };
  const { entries, state } = await withDatabase(deps, url, async (sql) => {
    await requireLedger(sql);
    return { entries: await readLedger(sql, query), state: await ledgerState(sql) };
  });
  await printReport(deps, (format) => renderLedger(entries, format as LedgerFormat), opts.format);
  if (opts.format === "text") {
    if (!state.active) deps.stderr.write("drift-guard: warning: the ledger's event triggers are not installed or disabled: new DDL is not being recorded\n");
    if (state.errors > 0) deps.stderr.write(`drift-guard: warning: the ledger triggers caught ${state.errors} error(s), the last at ${state.last_error_at}; see drift_guard.ledger_health\n`);
  }
  return EXIT.ok;
}
