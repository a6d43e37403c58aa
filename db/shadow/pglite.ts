/**
 * The embedded shadow: PGlite, Postgres compiled to WebAssembly, run in-process
 * in memory. No Docker, no server, no network.
 */
import { DriftGuardError } from "../../shared/types.ts";
import { skeletonFixedSchema, skeletonStandInScript, type PlatformSkeleton } from "../../shared/platform_skeleton.ts";
import { canStandIn, type LiveStandIn, standInFiles, standInScript } from "../extension_stand_ins.ts";
import { pgliteCatalog } from "../catalog.ts";
import { initdbCacheFile, readInitdbCache, writeInitdbCache } from "./initdb_cache.ts";
import type { Shadow } from "./shadow.ts";

// Embedded: PGlite

/**
 * PGlite's extensions are WebAssembly bundles that must be registered when the
 * database starts; loading all of them costs seconds, so only the ones the
 * migrations create are loaded. Static specifiers, so `deno check` and
 * bundlers can follow them.
 */
const PGLITE_EXTENSIONS: Record<string, () => Promise<Record<string, unknown>>> = {
  "amcheck": () => import("@electric-sql/pglite/contrib/amcheck"),
  "bloom": () => import("@electric-sql/pglite/contrib/bloom"),
  "btree_gin": () => import("@electric-sql/pglite/contrib/btree_gin"),
  "btree_gist": () => import("@electric-sql/pglite/contrib/btree_gist"),
  "citext": () => import("@electric-sql/pglite/contrib/citext"),
  "cube": () => import("@electric-sql/pglite/contrib/cube"),
  "dict_int": () => import("@electric-sql/pglite/contrib/dict_int"),
  "dict_xsyn": () => import("@electric-sql/pglite/contrib/dict_xsyn"),
  "earthdistance": () => import("@electric-sql/pglite/contrib/earthdistance"),
  "fuzzystrmatch": () => import("@electric-sql/pglite/contrib/fuzzystrmatch"),
  "hstore": () => import("@electric-sql/pglite/contrib/hstore"),
  "intarray": () => import("@electric-sql/pglite/contrib/intarray"),
  "isn": () => import("@electric-sql/pglite/contrib/isn"),
  "lo": () => import("@electric-sql/pglite/contrib/lo"),
  "ltree": () => import("@electric-sql/pglite/contrib/ltree"),
  "moddatetime": () => import("@electric-sql/pglite/contrib/moddatetime"),
  "pg_stat_statements": () => import("@electric-sql/pglite/contrib/pg_stat_statements"),
  "pg_trgm": () => import("@electric-sql/pglite/contrib/pg_trgm"),
  "pgcrypto": () => import("@electric-sql/pglite/contrib/pgcrypto"),
  "seg": () => import("@electric-sql/pglite/contrib/seg"),
  "tablefunc": () => import("@electric-sql/pglite/contrib/tablefunc"),
  "tcn": () => import("@electric-sql/pglite/contrib/tcn"),
  "tsm_system_rows": () => import("@electric-sql/pglite/contrib/tsm_system_rows"),
  "tsm_system_time": () => import("@electric-sql/pglite/contrib/tsm_system_time"),
  "unaccent": () => import("@electric-sql/pglite/contrib/unaccent"),
  "uuid-ossp": () => import("@electric-sql/pglite/contrib/uuid_ossp"),
  "vector": () => import("@electric-sql/pglite-pgvector"),
};

/** Extensions PGlite can load, by the name `create extension` uses. */
export const EMBEDDED_EXTENSIONS: readonly string[] = Object.keys(PGLITE_EXTENSIONS);


/**
 * Opens the embedded shadow with the named extensions available: PGlite's own
 * where it has them, stand-ins (db/extension_stand_ins.ts) for the rest.
 * `versions` are the versions migrations or the live database name, per extension;
 * `skeleton` (the live platform's) gives a stand-in its members' stubs and fixed schema.
 */
export async function openEmbeddedShadow(
  extensionNames: Iterable<string>,
  versions: ReadonlyMap<string, readonly string[]> = new Map(),
  skeleton?: PlatformSkeleton,
): Promise<Shadow & { loaded: string[] }> {
  const { PGlite } = await import("@electric-sql/pglite");
  const extensions: Record<string, unknown> = {};
  const loaded: string[] = [];
  const names = [...new Set(extensionNames)];
  for (const name of names) {
    const load = PGLITE_EXTENSIONS[name];
    if (!load) continue;
    try {
      const mod = await load();
      const ext = Object.values(mod).find((v) => typeof (v as { setup?: unknown })?.setup === "function");
      if (ext) {
        extensions[name.replace(/-/g, "_")] = ext;
        loaded.push(name);
      }
    } catch {
      // Not installed (the pgvector package is optional): a stand-in takes its place.
    }
  }
  // Stand-ins for what PGlite lacks: control files written into its file system before it starts.
  const standIns = names.filter((n) => !loaded.includes(n) && canStandIn(n));
  if (standIns.length) {
    const files = standIns.flatMap((n) => standInFiles(n, versions.get(n) ?? [], liveStandIn(skeleton, n)));
    extensions.drift_guard_stand_ins = {
      name: "drift_guard_stand_ins",
      setup: (_pg: unknown, emscriptenOpts: { postRun?: Array<(mod: any) => void> }) =>
        Promise.resolve({
          emscriptenOpts: {
            ...emscriptenOpts,
            postRun: [...(emscriptenOpts.postRun ?? []), (mod: any) => {
              const dir = "/pglite/share/postgresql/extension";
              for (const f of files) mod.FS.writeFile(`${dir}/${f.path}`, f.text);
            }],
          },
        }),
    };
  }
  const cacheFile = initdbCacheFile(loaded);
  // In memory, not in a temporary directory: unpacking the cached data directory onto disk costs
  // about twice as long as into memory, and a shadow is thrown away when its check ends.
  const start = (cached: Blob | null) => PGlite.create({ extensions: extensions as any, relaxedDurability: true, ...(cached ? { loadDataDir: cached } : {}) });
  let db: InstanceType<typeof PGlite>;
  try {
    const cached = readInitdbCache(cacheFile);
    // A cache that does not start (damaged, or written by another PGlite build) only costs an initdb.
    const started = cached ? await start(cached).catch(() => null) : null;
    db = started ?? await start(null);
    if (!started) await writeInitdbCache(cacheFile, db);
  } catch (err) {
    throw new DriftGuardError("internal", `cannot start the embedded shadow database (PGlite): ${(err as Error).message}`, "pass --shadow-url postgresql://… (an empty Postgres) instead");
  }
  return {
    kind: "embedded",
    loaded,
    standInMode: "extension",
    async exec(sql) {
      await db.exec(sql);
    },
    async run(statement) {
      await db.query(statement);
    },
    async query(text, params) {
      // No type arguments: where PGlite is not installed (the deployed function's folder) it is untyped.
      return (await db.query(text, params ?? [])).rows as Record<string, unknown>[];
    },
    catalog: pgliteCatalog(db as any),
    skeleton,
    async serverVersionNum() {
      const r = await db.query("select current_setting('server_version_num') as v");
      return Number((r.rows as Array<{ v: string }>)[0].v);
    },
    async close() {
      await db.close();
    },
  };
}

/** A stand-in's members and schema as the live extension has them, where the live database has it. */
export function liveStandIn(skeleton: PlatformSkeleton | undefined, name: string): LiveStandIn {
  if (!skeleton) return {};
  return { script: skeletonStandInScript(skeleton, name, standInScript(name)), schema: skeletonFixedSchema(skeleton, name) };
}
