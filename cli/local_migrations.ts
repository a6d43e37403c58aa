/** Reads a migrations directory from disk and hands the bytes to the core. */
import { type Dirent, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join, sep } from "node:path";
import { type MigrationFileInput, parseMigrationFiles, type ParsedMigrations } from "../shared/migration_files.ts";
import { DriftGuardError } from "../shared/types.ts";
import { progress } from "./progress.ts";

/** Lets pending I/O (such as a database connection being set up) progress between chunks of file reads. */
const breathe = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * The project a migrations directory belongs to: the folder holding
 * `supabase/` for the usual `supabase/migrations`, else the directory itself.
 * A symlink may point anywhere inside it, and nowhere outside.
 *
 * @example projectRoot("/repo/supabase/migrations") // "/repo"
 */
export function projectRoot(realDir: string): string {
  return basename(realDir) === "migrations" && basename(dirname(realDir)) === "supabase" ? dirname(dirname(realDir)) : realDir;
}

const inside = (root: string, path: string) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

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
  const root = projectRoot(realpathSync(dir));
  const files: MigrationFileInput[] = [];
  const bar = progress(`reading ${dir}`, entries.length);
  const unreadable: ParsedMigrations["problems"] = [];
  for (const entry of entries) {
    const fileName = entry.name;
    const path = join(dir, fileName);
    try {
      // Only symlinks need a stat to know whether they point at a file.
      if (entry.isDirectory() || (!entry.isFile() && !statSync(path).isFile())) continue;
      if (entry.isSymbolicLink()) {
        // Whatever a link reaches would go into the manifest and its upload: /proc/self/environ, ~/.ssh/…
        const target = realpathSync(path);
        if (!inside(root, target)) {
          unreadable.push({ level: "error", file: path, message: `refused: a symlink that leaves the project (${root}); copy the file into the project instead` });
          continue;
        }
      }
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
