/** `drift-guard fetch`: write remote-only migrations out as local files from their stored statements. */
import { Option } from "commander";
import { join, resolve } from "node:path";
import { computeDrift } from "../../shared/drift.ts";
import { fileNameFor, renderMigrationFile } from "../../shared/migration_files.ts";
import { visible } from "../../shared/report_formats/text_escape.ts";
import { splitStatements } from "../../shared/sql_statements.ts";
import { DriftGuardError, EXIT, type Report } from "../../shared/types.ts";
import { knownStatements, readHistory } from "../../db/history.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps, CliFs } from "../deps.ts";
import { readMigrationsDir } from "../local_migrations.ts";
import { dbUrlOption, migrationsOption, requireDbUrl } from "../options.ts";
import { progress } from "../progress.ts";

export const definition: CommandDefinition = {
  name: "fetch",
  description: "write remote-only migrations out as local files from their stored statements",
  options: () => [
    dbUrlOption(),
    migrationsOption(),
    new Option("--live-definitions <version>", "instead: write the migration that records what the live database has for this local-only version's objects (evidence `different`), or what a squash into this version leaves live"),
  ],
  argument: { spec: "[versions...]", description: "versions to fetch (default: every remote-only one)", key: "versions" },
  exitCodes: [0, 2, 3],
  examples: ["drift-guard fetch", "drift-guard fetch 20251025212010", "drift-guard fetch --live-definitions 20240101000000"],
};

export interface FetchOptions {
  dbUrl?: string;
  migrations: string;
  versions: string[];
  /** Write the migration that records the live definitions of this `different` version. */
  liveDefinitions?: string;
}

/**
 * Creates a new file and writes it; never overwrites, never follows a symlink
 * (a dangling one included: O_EXCL refuses any existing path). Returns why it
 * refused, or null when written. `drift-guard mcp`'s fetch_migrations writes through it too.
 *
 * @example await writeNewFile(deps.fs, "/repo/supabase/migrations/1_a.sql", "supabase/migrations/1_a.sql", "select 1;\n") // null
 */
export async function writeNewFile(fs: CliFs, absPath: string, path: string, text: string): Promise<string | null> {
  try {
    // "wx" is O_CREAT | O_EXCL: POSIX fails it on any existing path and never follows a final symlink.
    await fs.writeFile(absPath, text, { flag: "wx", mode: 0o644 });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "EEXIST" || code === "ELOOP") return `${path} already exists (a file or a symlink); fetch never overwrites`;
    if (code === "ENAMETOOLONG") return "its file name is too long for this file system";
    return `cannot create ${path} (${code ?? "error"})`;
  }
  return null;
}

/**
 * The versions fetch may write: those the report calls remote_only (all of them when
 * `versions` is empty). A version with a local file, or none in the history, is refused.
 *
 * @example remoteOnlyVersions(report, []) // every remote_only version
 */
export function remoteOnlyVersions(report: Pick<Report, "migrations">, versions: readonly string[]): string[] {
  const remoteOnly = new Set(report.migrations.filter((m) => m.state === "remote_only").map((m) => m.version));
  const wanted = versions.length ? [...new Set(versions)] : [...remoteOnly];
  for (const v of wanted) {
    if (!remoteOnly.has(v)) {
      const known = report.migrations.some((m) => m.version === v);
      throw new DriftGuardError("unknown_version", known ? `${v} already has a local file; fetch writes remote-only migrations` : `${v} is not in the migration history`);
    }
  }
  return wanted;
}

/** A history row to write out as a file. */
export interface FetchRow {
  version: string;
  name: string | null;
  statements: string[] | null;
}

/**
 * The file a history row becomes (its name from fileNameFor: digits, and a name without
 * separators or control characters), or why it cannot become one.
 *
 * @example migrationFileFor({ version: "1", name: "a", statements: ["select 1"] }) // { fileName: "1_a.sql", text: "select 1;\n", roundTrips: true }
 */
export function migrationFileFor(row: FetchRow): { fileName: string; text: string; roundTrips: boolean } | { why: string } {
  const fileName = fileNameFor(row.version, row.name);
  if (row.statements === null || fileName === null) {
    const why = row.statements === null
      ? "the history row has no statements to write out"
      : !/^[0-9]+$/.test(row.version)
      ? "its version is not digits, so it cannot be a migration file name"
      : `its name "${row.name}" cannot be a file name`;
    return { why };
  }
  const text = renderMigrationFile(row.statements);
  return { fileName, text, roundTrips: JSON.stringify(splitStatements(text)) === JSON.stringify(row.statements) };
}

/**
 * Writes each wanted remote-only migration as a file; exit 2 when one was skipped.
 * @example await run(deps, { dbUrl, migrations: "supabase/migrations", versions: [] })
 */
export async function run(deps: CliDeps, opts: FetchOptions): Promise<number> {
  const url = requireDbUrl(opts.dbUrl, "fetch");
  const parsed = await readMigrationsDir(opts.migrations, deps);
  if (opts.liveDefinitions !== undefined) {
    const version = opts.liveDefinitions;
    // Loads the shadow (PGlite): only for this form of fetch.
    const { liveDefinitionsMigration } = await import("../../db/live_definitions.ts");
    const live = await withDatabase(deps, url, (sql) => liveDefinitionsMigration(sql, parsed.migrations, version, opts.migrations));
    const path = join(opts.migrations, live.fileName);
    const refused = await writeNewFile(deps.fs, resolve(deps.cwd, path), path, live.sql);
    if (refused) throw new DriftGuardError("bad_input", `cannot write the live definitions: ${refused}`);
    deps.stdout.write(visible(`wrote ${path}. Review it, then: drift-guard check (${live.next})`) + "\n");
    return EXIT.ok;
  }
  const remote = await withDatabase(deps, url, (sql) => readHistory(sql, knownStatements(parsed.migrations)));
  const report = computeDrift({ local: parsed.migrations, remote, problems: parsed.problems });
  const wanted = remoteOnlyVersions(report, opts.versions ?? []);
  const rows = new Map((remote ?? []).map((r) => [r.version, r]));
  let written = 0;
  let failed = 0;
  const bar = progress("fetching", wanted.length, deps.stderr);
  for (const v of wanted) {
    bar.tick(written + failed);
    const row = rows.get(v)!;
    const file = migrationFileFor(row);
    if ("why" in file) {
      failed++;
      deps.stderr.write(visible(`skipped ${v}: ${file.why}`) + "\n");
      continue;
    }
    const path = join(opts.migrations, file.fileName);
    const { text, roundTrips } = file;
    const refused = await writeNewFile(deps.fs, resolve(deps.cwd, path), path, text);
    if (refused) {
      failed++;
      deps.stderr.write(visible(`skipped ${v}: ${refused}`) + "\n");
      continue;
    }
    written++;
    deps.stdout.write(visible(`wrote ${path}${roundTrips ? "" : " (warning: the stored statements do not split back identically; review it)"}`) + "\n");
  }
  bar.done();
  deps.stdout.write(`${written} file(s) written${failed ? `, ${failed} skipped` : ""}. Review and commit them.\n`);
  return failed ? EXIT.usage : EXIT.ok;
}
