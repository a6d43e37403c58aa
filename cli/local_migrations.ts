/** Reads a migrations directory from disk and hands the bytes to the core. */
import type { Dirent } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { type MigrationFileInput, parseMigrationFiles, type ParsedMigrations } from "../shared/migration_files.ts";
import { DriftGuardError } from "../shared/types.ts";
import type { CliDeps } from "./deps.ts";
import { progress } from "./progress.ts";

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

/** Files read at once: enough to keep the thread pool busy, few enough to bound open descriptors. */
const READ_CONCURRENCY = 64;

type ReadDeps = Pick<CliDeps, "fs" | "cwd" | "stderr">;

const processDeps = async (): Promise<ReadDeps> => ({ fs: await import("node:fs/promises"), cwd: process.cwd(), stderr: process.stderr });

/**
 * The migrations in `dir` (relative to `deps.cwd`), with problems for skipped and unreadable files.
 * Paths in the result are `dir` joined with the file name, as the user gave it.
 *
 * @example const { migrations, problems } = await readMigrationsDir("supabase/migrations", deps)
 */
export async function readMigrationsDir(dir: string, given?: ReadDeps): Promise<ParsedMigrations> {
  const deps = given ?? await processDeps();
  const { fs } = deps;
  const abs = resolve(deps.cwd, dir);
  let entries: Dirent[];
  try {
    if (!(await fs.stat(abs)).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
    entries = await fs.readdir(abs, { withFileTypes: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === "ENOENT" ? "does not exist" : code === "ENOTDIR" ? "is not a directory" : code === "EACCES" ? "cannot be read (permission denied)" : `cannot be read (${code})`;
    throw new DriftGuardError("bad_directory", `migrations directory ${dir} ${why}`, "run from your project root, or pass --migrations DIR");
  }
  const root = projectRoot(await fs.realpath(abs));
  const bar = progress(`reading ${dir}`, entries.length, deps.stderr);
  let done = 0;
  /** One entry: a file's bytes, a problem, or nothing (a directory). Order is kept by the caller. */
  const readEntry = async (entry: Dirent): Promise<MigrationFileInput | ParsedMigrations["problems"][number] | null> => {
    const fileName = entry.name;
    const path = join(dir, fileName);
    const absPath = join(abs, fileName);
    try {
      // Only symlinks need a stat to know whether they point at a file.
      if (entry.isDirectory() || (!entry.isFile() && !(await fs.stat(absPath)).isFile())) return null;
      if (entry.isSymbolicLink()) {
        // Whatever a link reaches would go into the manifest and its upload: /proc/self/environ, ~/.ssh/…
        const target = await fs.realpath(absPath);
        if (!inside(root, target)) {
          return { level: "error", file: path, message: `refused: a symlink that leaves the project (${root}); copy the file into the project instead` };
        }
      }
      const bytes = await fs.readFile(absPath);
      bar.tick(++done);
      return { path, fileName, bytes };
    } catch (err) {
      return { level: "error", file: path, message: `cannot be read (${(err as { code?: string }).code ?? "error"}): fix its permissions` };
    }
  };
  const results: Array<Awaited<ReturnType<typeof readEntry>>> = [];
  for (let i = 0; i < entries.length; i += READ_CONCURRENCY) {
    results.push(...await Promise.all(entries.slice(i, i + READ_CONCURRENCY).map(readEntry)));
  }
  bar.done();
  const files = results.filter((r): r is MigrationFileInput => r !== null && "bytes" in r);
  const unreadable = results.filter((r): r is ParsedMigrations["problems"][number] => r !== null && "level" in r);
  const parsed = parseMigrationFiles(files);
  return { migrations: parsed.migrations, problems: [...unreadable, ...parsed.problems] };
}
