/** `drift-guard manifest build`: the manifest on stdout or in a file. */
import { resolve } from "node:path";
import { Option } from "commander";
import { EXIT } from "../../shared/types.ts";
import type { CommandDefinition } from "../command.ts";
import type { CliDeps } from "../deps.ts";
import { manifestFrom } from "../manifest.ts";
import { migrationsOption } from "../options.ts";

export const definition: CommandDefinition = {
  name: "manifest build",
  description: "print (or write) the manifest: versions, names, checksums, statements, git commit and branch",
  options: () => [migrationsOption(), new Option("--out <file>", "write to FILE instead of stdout")],
  exitCodes: [0, 2],
  examples: ["drift-guard manifest build --out manifest.json", "drift-guard manifest build --migrations db/migrations > manifest.json"],
};

/**
 * Prints the manifest, or writes it to `out`; exit 2 when a file is unusable.
 * @example await run(deps, { migrations: "supabase/migrations", out: "manifest.json" })
 */
export async function run(deps: CliDeps, opts: { migrations: string; out?: string }): Promise<number> {
  const { manifest, hasErrors } = await manifestFrom(deps, opts.migrations);
  if (hasErrors) return EXIT.usage;
  const text = JSON.stringify(manifest, null, 2) + "\n";
  if (opts.out) {
    await deps.fs.writeFile(resolve(deps.cwd, opts.out), text);
    deps.stderr.write(`wrote ${opts.out}: ${manifest.migrations.length} migration(s)\n`);
  } else {
    deps.stdout.write(text);
  }
  return EXIT.ok;
}
