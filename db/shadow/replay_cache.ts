/**
 * The replay cache: what the embedded shadow built for a repository, kept on disk so that
 * the next check, repair plan or evidence of the same files on the same platform reads it
 * instead of replaying them again (seconds of WebAssembly per run).
 *
 * An entry holds the shadow's catalog after the first k files, for the k a run read, and
 * the live views' texts as the shadow re-deparsed them (db/view_spelling.ts), so that a
 * later run can align view spelling without a shadow, or where the replay stopped: the
 * first failing file and statement. It is written only where nothing was copied from
 * live, so the entry depends on nothing but its key:
 *   - the build of drift-guard that read it (dist/.build-stamp: every build changes it);
 *   - the PGlite version and the extensions the files create;
 *   - the live platform's settings the shadow is bootstrapped with (roles, schemas,
 *     extensions, search_path, default privileges, the platform skeleton);
 *   - every file's version and exact statements, in order.
 * Any other difference is a miss. Where the key cannot be made (no build stamp, no cache
 * directory, DRIFT_GUARD_CACHE_DIR=off) there is no cache. An entry that is not this user's
 * own, or that others may write, is never read. At most MAX_ENTRIES are kept,
 * the least recently used removed first.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import type { CatalogSnapshot } from "../../shared/schema_diff.ts";
import type { LocalMigration } from "../../shared/types.ts";
import type { PlatformSettings } from "../catalog.ts";
import { applyViewSpellings } from "../view_spelling.ts";
import { CACHE_DIR_MODE, CACHE_FILE_MODE, cacheBaseDir, ownCacheFile, pgliteVersion } from "./initdb_cache.ts";

const FORMAT = "drift-guard replay cache 2";
const MAX_ENTRIES = 32;

/** A replay's catalog at each prefix read, and the re-deparsed live view texts at that prefix. */
export interface ReplayCacheEntry {
  snapshots: Map<number, CatalogSnapshot>;
  spellings: Map<number, Map<string, string | null>>;
  /** Where the replay stopped: the file (by index) and what failed in it. No snapshot after it exists. */
  failure?: CachedFailure;
  /** Every file ran and no missing extension was stood in for: the snapshots are also what evidence by definition builds. */
  clean: boolean;
}

/** A replay's first failing statement, as db/shadow/replay.ts's ReplayError gives it. */
export interface CachedFailure {
  index: number;
  statement: number;
  detail: string;
  sqlText: string;
  sqlState: string | null;
  position: number | null;
}

/**
 * The build stamp of the drift-guard that runs: next to the bundle, or in dist/ of a checkout.
 * Read once per process: the code that runs is the code loaded at start, even if dist/ is
 * rebuilt meanwhile (`npm pack` does).
 */
let buildStamp: string | null | undefined;
function buildId(): string | null {
  if (buildStamp !== undefined) return buildStamp;
  const here = dirname(fileURLToPath(import.meta.url));
  buildStamp = null;
  for (const stamp of [join(here, ".build-stamp"), join(here, "..", "..", "dist", ".build-stamp")]) {
    try {
      if (existsSync(stamp)) {
        buildStamp = readFileSync(stamp, "utf8").trim();
        break;
      }
    } catch { /* unreadable: try the next */ }
  }
  return buildStamp;
}

/**
 * The cache file for a replay of `files` on a shadow bootstrapped with `settings`, or null when
 * there is no cache here.
 *
 * @example replayCacheFile(local, settings, ["pgcrypto"]) // "~/.cache/drift-guard/replay-3f2a….json"
 */
export function replayCacheFile(files: readonly LocalMigration[], settings: PlatformSettings, extensions: readonly string[]): string | null {
  if (process.env.DRIFT_GUARD_CACHE_DIR === "off") return null;
  const base = cacheBaseDir();
  const build = buildId();
  const pglite = pgliteVersion();
  if (!base || !build || !pglite) return null;
  const { applied_versions: _history, ...platform } = settings;
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ format: FORMAT, build, pglite, extensions: [...new Set(extensions)].sort(), platform }));
  for (const f of files) hash.update(`\u0000${JSON.stringify([f.version, f.statements])}`);
  return join(base, `replay-${hash.digest("hex")}.json`);
}

/**
 * The entry, when it has a snapshot for every prefix wanted (a replay that failed, for every
 * prefix up to the failing file); null otherwise (or unreadable).
 */
export function readReplayCache(file: string | null, prefixes: readonly number[]): ReplayCacheEntry | null {
  if (!file) return null;
  try {
    if (!ownCacheFile(file)) return null;
    const raw = JSON.parse(readFileSync(file, "utf8")) as {
      format: string;
      snapshots: Array<[number, CatalogSnapshot]>;
      spellings: Array<[number, Array<[string, string | null]>]>;
      failure?: CachedFailure;
      clean: boolean;
    };
    if (raw.format !== FORMAT) return null;
    const entry: ReplayCacheEntry = {
      snapshots: new Map(raw.snapshots),
      spellings: new Map(raw.spellings.map(([k, v]) => [k, new Map(v)])),
      clean: raw.clean === true,
      ...(raw.failure ? { failure: raw.failure } : {}),
    };
    const reached = (k: number) => entry.failure === undefined || k <= entry.failure.index;
    if (!prefixes.every((k) => !reached(k) || (entry.snapshots.has(k) && entry.spellings.has(k)))) return null;
    const now = new Date();
    utimesSync(file, now, now);
    return entry;
  } catch {
    return null;
  }
}

/** Keeps a replay's snapshots (taken before view spelling was aligned) and where it stopped. Any failure to write just means no cache. */
export function writeReplayCache(file: string | null, entry: ReplayCacheEntry): void {
  if (!file || (!entry.snapshots.size && !entry.failure)) return;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: CACHE_DIR_MODE });
    const body = JSON.stringify({ format: FORMAT, snapshots: [...entry.snapshots], spellings: [...entry.spellings].map(([k, v]) => [k, [...v]]), failure: entry.failure, clean: entry.clean });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, body, { mode: CACHE_FILE_MODE });
    renameSync(tmp, file);
    prune(dirname(file));
  } catch {
    // read-only home, full disk: run without a cache
  }
}

function prune(dir: string): void {
  const entries = readdirSync(dir)
    .filter((f) => /^replay-[0-9a-f]{64}\.json$/.test(f))
    .map((f) => ({ path: join(dir, f), used: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const e of entries.slice(MAX_ENTRIES)) rmSync(e.path, { force: true });
}

/**
 * The snapshots a cached replay read, with `live`'s view spelling aligned as that replay aligned
 * it, and where it failed; null on a miss, or when a live view's text is not one that replay
 * re-deparsed (`live` is then left as it was). `clean` asks for a replay in which every file ran.
 */
export function cachedReplay(
  file: string | null,
  prefixes: readonly number[],
  live: CatalogSnapshot,
  clean = false,
): { snapshots: Map<number, CatalogSnapshot>; clean: boolean; failure?: CachedFailure } | null {
  const entry = readReplayCache(file, prefixes);
  if (!entry || (clean && !entry.clean)) return null;
  const reached = prefixes.filter((k) => entry.failure === undefined || k <= entry.failure.index);
  const trial = structuredClone(live);
  if (!reached.every((k) => applyViewSpellings(entry.snapshots.get(k)!, trial, entry.spellings.get(k)!))) return null;
  for (const k of reached) applyViewSpellings(entry.snapshots.get(k)!, live, entry.spellings.get(k)!);
  return { snapshots: new Map(reached.map((k) => [k, entry.snapshots.get(k)!])), clean: entry.clean, ...(entry.failure ? { failure: entry.failure } : {}) };
}
