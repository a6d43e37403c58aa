/** The checks a command makes before it reads drift_guard's tables, with the one "not installed" text. */
import type { Sql } from "../db/connect.ts";
import { notInstalled } from "../db/database_error.ts";
import { schemaInstalled } from "../db/install.ts";
import { ledgerInstalled } from "../db/ledger.ts";

/** @example await requireInstalled(sql) // throws not_installed without the drift_guard schema */
export async function requireInstalled(sql: Sql): Promise<void> {
  if (!(await schemaInstalled(sql))) throw notInstalled("drift_guard");
}

/** @example await requireLedger(sql) // throws not_installed without the ledger's tables */
export async function requireLedger(sql: Sql): Promise<void> {
  if (!(await ledgerInstalled(sql))) throw notInstalled("the DDL ledger");
}
