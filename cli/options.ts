/**
 * The options several commands share, where each falls back to the environment,
 * and the one rule that picks the database or the function when both could be meant.
 */
import { Option } from "commander";
import { DEFAULT_MIGRATIONS_DIR } from "../shared/drift.ts";
import { DriftGuardError } from "../shared/types.ts";

/**
 * Option attribute -> the environment variable it falls back to. cli/main.ts applies
 * it from `deps.env` (commander's own `.env()` would read the process's environment).
 */
export const ENV_FALLBACKS: Readonly<Record<string, string>> = {
  dbUrl: "SUPABASE_DB_URL",
  url: "DRIFT_GUARD_URL",
  token: "DRIFT_GUARD_TOKEN",
  port: "PORT",
};

export const dbUrlOption = () => new Option("--db-url <url>", "database URL (env: SUPABASE_DB_URL)");
export const functionUrlOption = () => new Option("--url <url>", "the migration-drift function's URL (env: DRIFT_GUARD_URL)");
export const tokenOption = () => new Option("--token <token>", "a drift-guard token for --url (env: DRIFT_GUARD_TOKEN)");
export const migrationsOption = () => new Option("--migrations <dir>", "migrations directory").default(DEFAULT_MIGRATIONS_DIR);
export const formatOption = (formats: readonly string[]) => new Option("--format <format>", "output format").choices(formats).default("text");

/** What `--help` says about the rule below. */
export const TARGET_RULE_HELP = `Database or function: a flag beats an environment variable; --db-url and --url together are an
error; from the environment alone, SUPABASE_DB_URL beats DRIFT_GUARD_URL.`;

/**
 * For commands that take either --db-url or --url: returns the options with at
 * most one of them set, by TARGET_RULE_HELP's rule. `typed(key)` says whether the
 * user typed that flag (rather than it coming from the environment).
 *
 * @example
 * // SUPABASE_DB_URL and DRIFT_GUARD_URL both set, `check --url https://…` typed:
 * chooseTarget(opts, (key) => key === "url") // => { ...opts, dbUrl: undefined }: the typed --url wins
 */
export function chooseTarget<T extends { dbUrl?: string; url?: string }>(opts: T, typed: (key: "dbUrl" | "url") => boolean): T {
  if (!opts.url || !opts.dbUrl) return opts;
  const urlTyped = typed("url");
  const dbTyped = typed("dbUrl");
  if (urlTyped && dbTyped) throw new DriftGuardError("usage", "pass either --db-url or --url, not both");
  return urlTyped ? { ...opts, dbUrl: undefined } : { ...opts, url: undefined };
}

/**
 * The database URL a command needs, or the one "missing --db-url" error.
 * `orFunction`: the command also works through the function (--url, --token).
 *
 * @example requireDbUrl(opts.dbUrl, "install") // throws usage "missing --db-url (or SUPABASE_DB_URL)" when unset
 */
export function requireDbUrl(url: string | undefined, command: string, more: { orFunction?: boolean; purpose?: string; hint?: string } = {}): string {
  if (url) return url;
  const message = `missing --db-url (or SUPABASE_DB_URL)${more.orFunction ? ", or --url and --token for the function" : ""}${more.purpose ? `: ${more.purpose}` : ""}`;
  throw new DriftGuardError("usage", message, more.hint ?? `drift-guard ${command} --db-url postgresql://…`);
}
