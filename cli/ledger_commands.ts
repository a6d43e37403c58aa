/** `drift-guard ledger` and `drift-guard ledger ack`: the DDL ledger, read and acknowledged. */
import { hostname, userInfo } from "node:os";
import process from "node:process";
import { type LedgerFilter, parseSince } from "../shared/ledger.ts";
import { validateReason } from "../shared/repair_plan.ts";
import { type LedgerFormat, renderLedger } from "../shared/report_formats/ledger.ts";
import { DriftGuardError, EXIT } from "../shared/types.ts";
import type { Sql } from "../db/connect.ts";
import { acknowledgeLedger, ledgerInstalled, ledgerState, parseLedgerIds, readLedger } from "../db/ledger.ts";
import { withDatabase } from "./database.ts";
import { printReport } from "./output.ts";

export interface LedgerOptions {
  dbUrl?: string;
  since?: string;
  until?: string;
  object?: string;
  status: LedgerFilter;
  limit: string;
  format: LedgerFormat;
}

function requireDbUrl(url: string | undefined): string {
  if (!url) throw new DriftGuardError("usage", "missing --db-url (or SUPABASE_DB_URL)", "drift-guard ledger --db-url postgresql://…");
  return url;
}

async function requireLedger(sql: Sql): Promise<void> {
  if (!(await ledgerInstalled(sql))) {
    throw new DriftGuardError("not_installed", "the DDL ledger is not installed in this database: run drift-guard install", "drift-guard install --db-url …");
  }
}

export async function ledgerCommand(opts: LedgerOptions): Promise<number> {
  const url = requireDbUrl(opts.dbUrl);
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new DriftGuardError("usage", "--limit must be a whole number from 1 to 100000");
  const query = {
    since: opts.since ? parseSince(opts.since) : undefined,
    until: opts.until ? parseSince(opts.until, new Date(), "--until") : undefined,
    object: opts.object,
    status: opts.status,
    limit,
  };
  const { entries, state } = await withDatabase(url, async (sql) => {
    await requireLedger(sql);
    return { entries: await readLedger(sql, query), state: await ledgerState(sql) };
  });
  printReport((format) => renderLedger(entries, format as LedgerFormat), opts.format);
  if (opts.format === "text") {
    if (!state.active) process.stderr.write("drift-guard: warning: the ledger's event triggers are not installed or disabled: new DDL is not being recorded\n");
    if (state.errors > 0) process.stderr.write(`drift-guard: warning: the ledger triggers caught ${state.errors} error(s), the last at ${state.last_error_at}; see drift_guard.ledger_health\n`);
  }
  return EXIT.ok;
}

export async function ledgerAckCommand(opts: { dbUrl?: string; id?: string[]; reason?: string; format: "text" | "json" }): Promise<number> {
  const url = requireDbUrl(opts.dbUrl);
  const ids = parseLedgerIds(opts.id ?? []);
  const reason = validateReason(opts.reason);
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch { /* no passwd entry */ }
  const result = await withDatabase(url, async (sql) => {
    await requireLedger(sql);
    return await acknowledgeLedger(sql, ids, reason, { via: "cli", user, host: hostname() });
  });
  if (opts.format === "json") {
    process.stdout.write(JSON.stringify({ acknowledged: result.acknowledged, audit_id: result.audit_id, ids }, null, 2) + "\n");
  } else {
    process.stdout.write(`acknowledged ${result.acknowledged} ledger entr${result.acknowledged === 1 ? "y" : "ies"} (${ids.length - result.acknowledged} already were)\nAudit id: ${result.audit_id}\n`);
  }
  return EXIT.ok;
}
