/**
 * The options several commands share, and the one rule that picks the database or
 * the function when both could be meant.
 */
import { type Command, Option } from "commander";
import { DEFAULT_MIGRATIONS_DIR } from "../shared/drift.ts";
import { DriftGuardError } from "../shared/types.ts";

export const dbUrlOption = () => new Option("--db-url <url>", "database URL").env("SUPABASE_DB_URL");
export const functionUrlOption = () => new Option("--url <url>", "the migration-drift function's URL").env("DRIFT_GUARD_URL");
export const tokenOption = () => new Option("--token <token>", "a drift-guard token for --url").env("DRIFT_GUARD_TOKEN");
export const migrationsOption = () => new Option("--migrations <dir>", "migrations directory").default(DEFAULT_MIGRATIONS_DIR);

/** What `--help` says about the rule below. */
export const TARGET_RULE_HELP = `Database or function: a flag beats an environment variable; --db-url and --url together are an
error; from the environment alone, SUPABASE_DB_URL beats DRIFT_GUARD_URL.`;

/**
 * For commands that take either --db-url or --url: returns the options with at
 * most one of them set, by TARGET_RULE_HELP's rule.
 *
 * @example
 * // SUPABASE_DB_URL and DRIFT_GUARD_URL both set, `check --url https://…` typed:
 * chooseTarget(opts, cmd) // => { ...opts, dbUrl: undefined }: the typed --url wins
 */
export function chooseTarget<T extends { dbUrl?: string; url?: string }>(opts: T, cmd: Command): T {
  if (!opts.url || !opts.dbUrl) return opts;
  const urlTyped = cmd.getOptionValueSource("url") === "cli";
  const dbTyped = cmd.getOptionValueSource("dbUrl") === "cli";
  if (urlTyped && dbTyped) throw new DriftGuardError("usage", "pass either --db-url or --url, not both");
  return urlTyped ? { ...opts, dbUrl: undefined } : { ...opts, url: undefined };
}

/** Exit codes per command, for each command's --help. */
export function exitCodesHelp(codes: ReadonlyArray<0 | 1 | 2 | 3 | 4>, zero = "success"): string {
  const meaning: Record<number, string> = {
    0: zero,
    1: "drift found",
    2: "usage or bad input",
    3: "cannot reach or authenticate to the database or the function",
    4: "conflict: the history changed since the plan, or another repair holds the lock",
  };
  return `\nExit codes:\n${codes.map((c) => `  ${c}  ${meaning[c]}`).join("\n")}`;
}
