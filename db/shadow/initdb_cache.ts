/** The embedded shadow's initdb cache: a fresh PGlite data directory, kept once per PGlite build. */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

/**
 * A fresh PGlite runs initdb (seconds of WebAssembly). Its result is the same
 * every time for the same PGlite and the same extensions, so the first run keeps
 * a copy of the fresh data directory (a 40 MB tar, left uncompressed: unpacking
 * the 5 MB gzip costs each shadow start about 0.3 s more) and later runs start
 * from it. Keyed by the PGlite version and the extensions loaded: a data
 * directory made with some (pg_stat_statements) does not start without them.
 * $DRIFT_GUARD_CACHE_DIR, else $XDG_CACHE_HOME/drift-guard, else ~/.cache/drift-guard;
 * DRIFT_GUARD_CACHE_DIR=off disables it. Any failure just means no cache.
 */
export function initdbCacheFile(loadedExtensions: readonly string[]): string | null {
  if (process.env.DRIFT_GUARD_CACHE_DIR === "off") return null;
  const version = pgliteVersion();
  const base = cacheBaseDir();
  if (!version || !base) return null;
  // Names from PGLITE_EXTENSIONS, hashed so that any set makes a short file name.
  const set = [...new Set(loadedExtensions)].sort().join(",");
  const suffix = set ? `-${createHash("sha256").update(set).digest("hex").slice(0, 12)}` : "";
  return join(base, `pglite-${version}-initdb${suffix}.tar`);
}

/** The installed (or import-mapped) PGlite's version; null when it cannot be told. */
export function pgliteVersion(): string | null {
  try {
    // import.meta.resolve where the runtime has it (Node, Deno); a require resolver where it does not (vitest).
    const resolved = typeof import.meta.resolve === "function" ? import.meta.resolve("@electric-sql/pglite") : null;
    if (resolved !== null && !resolved.startsWith("file:")) return pinnedPgliteVersion(resolved);
    const entry = resolved ? fileURLToPath(resolved) : createRequire(import.meta.url).resolve("@electric-sql/pglite");
    return JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")).version ?? null;
  } catch {
    return null;
  }
}

/**
 * drift-guard's cache directory: $DRIFT_GUARD_CACHE_DIR, else $XDG_CACHE_HOME/drift-guard, else
 * ~/.cache/drift-guard; null when it is off or there is no home to ask for.
 */
export function cacheBaseDir(): string | null {
  const env = process.env;
  if (env.DRIFT_GUARD_CACHE_DIR === "off") return null;
  try {
    return env.DRIFT_GUARD_CACHE_DIR || (env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, "drift-guard") : join(homedir() || tmpdir(), ".cache", "drift-guard"));
  } catch {
    return null; // a runtime without a home directory to ask for (a hosted function may refuse)
  }
}

/**
 * The PGlite version an import map pins: Deno resolves `@electric-sql/pglite` to the mapped
 * specifier itself (the function `drift-guard init` writes maps it to an exact `npm:` version),
 * not to a file. Null for anything but an exact version, as a range names no one data directory.
 *
 * @example pinnedPgliteVersion("npm:@electric-sql/pglite@0.5.14") // "0.5.14"
 */
export function pinnedPgliteVersion(resolved: string): string | null {
  return /^npm:\/?@electric-sql\/pglite@([0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?)(?:\/.*)?$/.exec(resolved)?.[1] ?? null;
}

/**
 * Whether a cache file may be believed: this user's, and writable by no one else. What the
 * shadow builds decides the evidence, and so the advice; a file another user could plant or
 * change (a shared DRIFT_GUARD_CACHE_DIR under /tmp) is not read.
 *
 * @example ownCacheFile("/home/me/.cache/drift-guard/replay-….json") // true
 */
export function ownCacheFile(file: string): boolean {
  try {
    const st = statSync(file);
    if (!st.isFile()) return false;
    if (typeof process.getuid !== "function") return true; // no owners to compare (Windows)
    return st.uid === process.getuid() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** Cache files are written readable and writable by their owner alone. */
export const CACHE_FILE_MODE = 0o600;
export const CACHE_DIR_MODE = 0o700;

export function readInitdbCache(file: string | null): Blob | null {
  try {
    return file && ownCacheFile(file) ? new Blob([readFileSync(file)]) : null;
  } catch {
    return null;
  }
}

export async function writeInitdbCache(file: string | null, db: { dumpDataDir(compression?: "gzip" | "auto" | "none"): Promise<File | Blob> }): Promise<void> {
  if (!file) return;
  try {
    const dump = await db.dumpDataDir("none");
    mkdirSync(dirname(file), { recursive: true, mode: CACHE_DIR_MODE });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, new Uint8Array(await dump.arrayBuffer()), { mode: CACHE_FILE_MODE });
    renameSync(tmp, file);
    // The gzipped copy an older drift-guard kept under the same name.
    rmSync(`${file}.gz`, { force: true });
  } catch {
    // read-only home, full disk: run without a cache
  }
}
