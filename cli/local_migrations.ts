/** Reads a migrations directory from disk and hands the bytes to the core. */
import { type Dirent, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type MigrationFileInput, parseMigrationFiles, type ParsedMigrations } from "../shared/migration_files.ts";
import { DriftGuardError } from "../shared/types.ts";
import { progress } from "./progress.ts";

/** Lets pending I/O (such as a database connection being set up) progress between chunks of file reads. */
const breathe = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function readMigrationsDir(dir: string): Promise<ParsedMigrations> {
  let entries: Dirent[];
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === "ENOENT" ? "does not exist" : code === "ENOTDIR" ? "is not a directory" : code === "EACCES" ? "cannot be read (permission denied)" : `cannot be read (${code})`;
    throw new DriftGuardError("bad_directory", `migrations directory ${dir} ${why}`, "run from your project root, or pass --migrations DIR");
  }
  const files: MigrationFileInput[] = [];
  const bar = progress(`reading ${dir}`, entries.length);
  const unreadable: ParsedMigrations["problems"] = [];
  for (const entry of entries) {
    const fileName = entry.name;
    const path = join(dir, fileName);
    try {
      // Only symlinks need a stat to know whether they point at a file.
      if (entry.isDirectory() || (!entry.isFile() && !statSync(path).isFile())) continue;
      files.push({ path, fileName, bytes: readFileSync(path) });
      bar.tick(files.length);
      if (files.length % 500 === 0) await breathe();
    } catch (err) {
      unreadable.push({ level: "error", file: path, message: `cannot be read (${(err as { code?: string }).code ?? "error"}): fix its permissions` });
    }
  }
  bar.done();
  const parsed = parseMigrationFiles(files);
  return { migrations: parsed.migrations, problems: [...unreadable, ...parsed.problems] };
}
