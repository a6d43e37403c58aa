/** `drift-guard install`: create or upgrade the drift_guard schema. */
import { EXIT } from "../../shared/types.ts";
import { installSchema } from "../../db/install.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { lineWriter } from "../lines.ts";
import { dbUrlOption, requireDbUrl } from "../options.ts";

export const definition: CommandDefinition = {
  name: "install",
  description: "create or upgrade the drift_guard schema (idempotent)",
  options: () => [dbUrlOption()],
  exitCodes: [0, 2, 3],
  examples: ['drift-guard install --db-url "$SUPABASE_DB_URL"'],
};

/**
 * Installs or upgrades the schema and says which files ran.
 * @example await run(deps, { dbUrl })
 */
export async function run(deps: CliDeps, opts: { dbUrl?: string }): Promise<number> {
  const url = requireDbUrl(opts.dbUrl, "install");
  const write = lineWriter(deps.stdout);
  const result = await withDatabase(deps, url, (sql) => installSchema(sql));
  if (result.applied.length === 0 && result.updated.length === 0) {
    write(`drift_guard is already up to date (schema version ${result.current})`);
  } else {
    for (const version of result.applied) write(`applied drift_guard schema version ${version}`);
    for (const version of result.updated) write(`updated drift_guard schema version ${version} (its file changed since it ran here)`);
    write(`drift_guard is installed (schema version ${result.current})`);
  }
  return EXIT.ok;
}
