/** The manifest of the migrations directory, for `manifest build` and `manifest upload`. */
import { buildManifest } from "../shared/manifest.ts";
import { visible } from "../shared/report_formats/text_escape.ts";
import type { CliDeps } from "./deps.ts";
import { gitProvenance } from "./git.ts";
import { readMigrationsDir } from "./local_migrations.ts";

/**
 * The manifest of `dir`, its problems printed to stderr; `hasErrors` when a file is unusable.
 * @example const { manifest, hasErrors } = await manifestFrom(deps, "supabase/migrations")
 */
export async function manifestFrom(deps: CliDeps, dir: string) {
  const parsed = await readMigrationsDir(dir, deps);
  const manifest = buildManifest(parsed, gitProvenance(dir, deps), deps.now());
  for (const p of manifest.problems) deps.stderr.write(visible(`${p.level}: ${p.file}: ${p.message}`) + "\n");
  return { manifest, hasErrors: parsed.problems.some((p) => p.level === "error") };
}
