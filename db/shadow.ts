/**
 * The shadow database: where the local migrations are replayed to learn the
 * schema they build. Two kinds, one interface:
 *
 *  - embedded (default): PGlite, Postgres compiled to WebAssembly, run
 *    in-process in a temporary directory. No Docker, no server, no network.
 *  - postgres (--shadow-url): an empty real Postgres, for migrations that need
 *    an extension PGlite lacks, or to match the live server's major version.
 *
 * Replay follows `supabase db push`: statements split exactly as the CLI
 * splits them (shared/sql_statements.ts), each migration in its own
 * transaction, each statement sent on its own over the extended protocol, all
 * in one session (so a migration's `set search_path` carries over to the next
 * migration, as it does in a push).
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import type { LocalMigration } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import { DEFAULT_EXCLUDED_SCHEMAS, quoteIdent, quoteLiteral } from "../shared/schema_diff.ts";
import { alteredExtension, parseCreateExtension, parseDropExtension, stripLeadingComments } from "../shared/extension_statements.ts";
import { canStandIn, fixedStandInSchema, STAND_IN_COMMENT, standInFiles, standInScript } from "./extension_stand_ins.ts";
import { type CatalogConnection, pgliteCatalog, type PlatformSettings } from "./catalog.ts";
import { openDatabase } from "./connect.ts";
import { databaseError, describeTarget } from "./database_error.ts";

export const STAND_INS_PATH = new URL("../supabase/shadow/supabase_stand_ins.sql", import.meta.url);

export interface Shadow {
  kind: "embedded" | "postgres";
  /** Several statements at once (simple protocol): the bootstrap. */
  exec(sql: string): Promise<void>;
  /** One statement (extended protocol), as the Supabase CLI sends each one. */
  run(statement: string): Promise<void>;
  query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  catalog: CatalogConnection;
  /**
   * How an extension the shadow lacks is stood in for: as an extension (embedded:
   * control files in PGlite's file system), or by running its stand-in script in
   * place of the top-level statement (--shadow-url: see extensionStatementRule).
   */
  standInMode: "extension" | "statement";
  serverVersionNum(): Promise<number>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
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

/** The extension a top-level `create extension` statement creates, or null. */
export function createdExtension(statement: string): string | null {
  return parseCreateExtension(statement)?.name ?? null;
}

export { stripLeadingComments };

/**
 * Opens the embedded shadow with the named extensions available: PGlite's own
 * where it has them, stand-ins (db/extension_stand_ins.ts) for the rest.
 * `versions` are the versions migrations or the live database name, per extension.
 */
export async function openEmbeddedShadow(extensionNames: Iterable<string>, versions: ReadonlyMap<string, readonly string[]> = new Map()): Promise<Shadow & { loaded: string[] }> {
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
    const files = standIns.flatMap((n) => standInFiles(n, versions.get(n) ?? []));
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
  const start = async (cached: Blob | null) => {
    const dir = mkdtempSync(join(tmpdir(), "drift-guard-shadow-"));
    try {
      return { dir, db: await PGlite.create({ dataDir: dir, extensions: extensions as any, relaxedDurability: true, ...(cached ? { loadDataDir: cached } : {}) }) };
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  };
  let dir: string;
  let db: InstanceType<typeof PGlite>;
  try {
    const cached = readInitdbCache(cacheFile);
    // A cache that does not start (damaged, or written by another PGlite build) only costs an initdb.
    const started = cached ? await start(cached).catch(() => null) : null;
    ({ dir, db } = started ?? await start(null));
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
    async serverVersionNum() {
      const r = await db.query("select current_setting('server_version_num') as v");
      return Number((r.rows as Array<{ v: string }>)[0].v);
    },
    async close() {
      try {
        await db.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A fresh PGlite runs initdb (seconds of WebAssembly). Its result is the same
 * every time for the same PGlite and the same extensions, so the first run keeps
 * a gzipped copy of the fresh data directory (about 5 MB) and later runs start
 * from it. Keyed by the PGlite version and the extensions loaded: a data
 * directory made with some (pg_stat_statements) does not start without them.
 * $DRIFT_GUARD_CACHE_DIR, else $XDG_CACHE_HOME/drift-guard, else ~/.cache/drift-guard;
 * DRIFT_GUARD_CACHE_DIR=off disables it. Any failure just means no cache.
 */
export function initdbCacheFile(loadedExtensions: readonly string[]): string | null {
  const env = process.env;
  if (env.DRIFT_GUARD_CACHE_DIR === "off") return null;
  let version: string | null;
  try {
    // import.meta.resolve where the runtime has it (Node, Deno); a require resolver where it does not (vitest).
    const resolved = typeof import.meta.resolve === "function" ? import.meta.resolve("@electric-sql/pglite") : null;
    if (resolved !== null && !resolved.startsWith("file:")) {
      version = pinnedPgliteVersion(resolved);
    } else {
      const entry = resolved ? fileURLToPath(resolved) : createRequire(import.meta.url).resolve("@electric-sql/pglite");
      version = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")).version;
    }
  } catch {
    return null;
  }
  if (!version) return null;
  let base: string;
  try {
    base = env.DRIFT_GUARD_CACHE_DIR || (env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, "drift-guard") : join(homedir() || tmpdir(), ".cache", "drift-guard"));
  } catch {
    return null; // a runtime without a home directory to ask for (a hosted function may refuse)
  }
  // Names from PGLITE_EXTENSIONS, hashed so that any set makes a short file name.
  const set = [...new Set(loadedExtensions)].sort().join(",");
  const suffix = set ? `-${createHash("sha256").update(set).digest("hex").slice(0, 12)}` : "";
  return join(base, `pglite-${version}-initdb${suffix}.tar.gz`);
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

function readInitdbCache(file: string | null): Blob | null {
  try {
    return file && existsSync(file) ? new Blob([readFileSync(file)]) : null;
  } catch {
    return null;
  }
}

async function writeInitdbCache(file: string | null, db: { dumpDataDir(compression?: "gzip" | "auto" | "none"): Promise<File | Blob> }): Promise<void> {
  if (!file) return;
  try {
    const dump = await db.dumpDataDir("gzip");
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, new Uint8Array(await dump.arrayBuffer()));
    renameSync(tmp, file);
  } catch {
    // read-only home, full disk: run without a cache
  }
}

// ---------------------------------------------------------------------------------------------
// Real Postgres: --shadow-url

export async function openPostgresShadow(url: string): Promise<Shadow> {
  const sql = openDatabase(url, { max: 1, applicationName: "drift-guard shadow" });
  let conn: Awaited<ReturnType<typeof sql.reserve>>;
  try {
    conn = await sql.reserve();
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw shadowUnreachable(err, url);
  }
  return {
    kind: "postgres",
    standInMode: "statement",
    async exec(text) {
      await conn.unsafe(text);
    },
    async run(statement) {
      await conn.unsafe(statement);
    },
    async query(text, params) {
      return [...(await conn.unsafe(text, (params ?? []) as any[]))] as Record<string, unknown>[];
    },
    catalog: {
      async transaction(fn) {
        await conn.unsafe("begin isolation level repeatable read read only");
        try {
          const result = await fn(async (text, params) => [...(await conn.unsafe(text, (params ?? []) as any[]))] as Record<string, unknown>[]);
          await conn.unsafe("commit");
          return result;
        } catch (err) {
          await conn.unsafe("rollback").catch(() => {});
          throw err;
        }
      },
    },
    async serverVersionNum() {
      const [r] = await conn.unsafe("select current_setting('server_version_num') as v");
      return Number(r.v);
    },
    async close() {
      conn.release();
      await sql.end({ timeout: 2 }).catch(() => {});
    },
  };
}

/** A failure talking to a --shadow-url database, as our error (never its password). */
export function shadowUnreachable(err: unknown, url: string): DriftGuardError {
  if (err instanceof DriftGuardError) return err;
  const e = databaseError(err, url);
  return new DriftGuardError(e.code, `shadow database: ${e.message}`, e.hint);
}

/**
 * What makes a --shadow-url database "not empty": user objects, which an earlier
 * run or a `supabase start` that applied migrations would leave behind and which
 * would hide drift. The platform's own objects do not count, so a database made
 * by `supabase start` (before migrations) or one with only the platform's
 * schemas and extensions is empty. User objects are:
 *  - a schema other than public, pg_*, information_schema and the platform
 *    schemas (DEFAULT_EXCLUDED_SCHEMAS: auth, storage, extensions, graphql, vault…);
 *  - a table, view, materialized view, sequence, foreign table, function or type
 *    outside the platform schemas (public included);
 *  - a policy on a table in public, auth or storage;
 *  - a table in a publication (supabase_realtime…) outside the platform schemas;
 *  - a row in supabase_migrations.schema_migrations.
 * Objects an extension owns never count.
 */
export const EMPTY_SHADOW_RULE =
  "a shadow is empty when it has no user objects: no schema besides public and the platform's (auth, storage, extensions, graphql, vault, realtime…); " +
  "no table, view, sequence, function or type outside the platform schemas (objects extensions own do not count); no policy on public, auth or storage tables; " +
  "no table in a publication; no row in supabase_migrations.schema_migrations";

const USER_OBJECTS_SQL = `
with platform as (select unnest($1::text[]) as nspname),
extdep as (select classid, objid from pg_catalog.pg_depend where deptype = 'e'),
userns as (
  select n.oid, n.nspname from pg_catalog.pg_namespace n
  where n.nspname !~ '^pg_' and n.nspname <> 'information_schema' and n.nspname not in (select nspname from platform)
    and not exists (select from extdep d where d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass and d.objid = n.oid)
)
select * from (
  select 'schema ' || pg_catalog.quote_ident(n.nspname) as name from userns n where n.nspname <> 'public'
  union all
  select case c.relkind when 'v' then 'view ' when 'm' then 'materialized view ' when 'S' then 'sequence ' else 'table ' end
         || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
  from pg_catalog.pg_class c join userns n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
    and not exists (select from extdep d where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = c.oid)
  union all
  select 'function ' || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '()'
  from pg_catalog.pg_proc p join userns n on n.oid = p.pronamespace
  where not exists (select from extdep d where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and d.objid = p.oid)
  union all
  select 'type ' || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname)
  from pg_catalog.pg_type t join userns n on n.oid = t.typnamespace
  where (t.typtype in ('e', 'd', 'r', 'm') or (t.typtype = 'c' and (select c.relkind from pg_catalog.pg_class c where c.oid = t.typrelid) = 'c'))
    and not exists (select from extdep d where d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass and d.objid = t.oid)
  union all
  select 'policy ' || pg_catalog.quote_ident(pol.polname) || ' on ' || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
  from pg_catalog.pg_policy pol join pg_catalog.pg_class c on c.oid = pol.polrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname in ('public', 'auth', 'storage')
  union all
  select 'table ' || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) || ' in publication ' || pg_catalog.quote_ident(p.pubname)
  from pg_catalog.pg_publication_rel pr join pg_catalog.pg_publication p on p.oid = pr.prpubid
  join pg_catalog.pg_class c on c.oid = pr.prrelid join userns n on n.oid = c.relnamespace
) o order by 1 limit 6`;

/**
 * A --shadow-url must hold no user objects (EMPTY_SHADOW_RULE): leftovers from an
 * earlier run would hide drift. The platform's schemas and extensions are fine.
 */
export async function assertEmptyShadow(shadow: Shadow, url: string): Promise<void> {
  const found = (await shadow.query(USER_OBJECTS_SQL, [DEFAULT_EXCLUDED_SCHEMAS])).map((r) => String(r.name));
  const [history] = await shadow.query("select pg_catalog.to_regclass('supabase_migrations.schema_migrations') is not null as present");
  if (history.present) {
    const [c] = await shadow.query("select count(*)::int as n from supabase_migrations.schema_migrations");
    if (Number(c.n) > 0) found.unshift(`${c.n} applied migration(s) in supabase_migrations.schema_migrations`);
  }
  if (found.length) {
    const shown = found.slice(0, 5);
    throw new DriftGuardError(
      "bad_input",
      `the shadow database ${describeTarget(url)} is not empty: it has ${shown.join(", ")}${found.length > 5 ? ", …" : ""}`,
      `${EMPTY_SHADOW_RULE}. Pass a freshly created database (e.g. createdb drift_guard_shadow), or a database made by \`supabase start\` before any migration ran in it`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Bootstrap and replay

/** Facts about the live platform that shape what migrations build, copied into the shadow. */

const DEFAULT_ACL_WORD: Record<string, string> = { r: "tables", S: "sequences", f: "functions", T: "types", n: "schemas" };

/**
 * Statements that give the shadow the live platform's default privileges and
 * the roles they name. Supabase grants anon/authenticated/service_role every
 * privilege on new public tables by default: without this, every table would
 * show grant drift.
 */
export function defaultPrivilegeStatements(settings: PlatformSettings, shadowVersion: number, existingRoles: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const roles = new Set(settings.default_privileges.map((d) => d.grantee).filter((r) => r !== "PUBLIC" && !existingRoles.has(r)));
  for (const r of [...roles].sort()) out.push(`do $$ begin if not exists (select from pg_catalog.pg_roles where rolname = ${quoteLiteral(r)}) then create role ${quoteIdent(r)} nologin; end if; end $$`);
  for (const d of settings.default_privileges) {
    if (d.privilege === "MAINTAIN" && shadowVersion < 170000) continue;
    const word = DEFAULT_ACL_WORD[d.objtype];
    if (!word) continue;
    const grantee = d.grantee === "PUBLIC" ? "public" : quoteIdent(d.grantee);
    const inSchema = d.schema ? ` in schema ${quoteIdent(d.schema)}` : "";
    out.push(d.revoke
      ? `alter default privileges${inSchema} revoke ${d.privilege} on ${word} from ${grantee}`
      : `alter default privileges${inSchema} grant ${d.privilege} on ${word} to ${grantee}${d.grantable ? " with grant option" : ""}`);
  }
  return out;
}

export interface ReplayResult {
  migrations: number;
  statements: number;
  /** Statements skipped, with why (embedded shadow only: platform extensions PGlite lacks). */
  skipped: Array<{ file: string; statement: number; reason: string }>;
  /** What was fixed in the shadow so that a migration could replay. */
  repaired: Array<{ file: string; statement: number; action: string }>;
}

export class ReplayError extends Error {
  constructor(
    readonly file: string,
    readonly version: string,
    readonly statement: number,
    readonly detail: string,
    readonly sqlText: string,
    /** Postgres's SQLSTATE and the error's 1-based character position in the statement, when it gave them. */
    readonly sqlState: string | null = null,
    readonly position: number | null = null,
  ) {
    super(`${file}: statement ${statement} failed: ${detail}`);
  }
}

/**
 * Prepares the shadow: stand-ins, the live platform's default privileges and
 * search_path. Runs before the first migration.
 */
export async function bootstrapShadow(shadow: Shadow, settings: PlatformSettings): Promise<void> {
  await shadow.query("select pg_catalog.set_config('drift_guard.supabase_platform', $1, false)", [settings.supabase ? "on" : "off"]);
  await shadow.exec(readFileSync(STAND_INS_PATH, "utf8"));
  const version = await shadow.serverVersionNum();
  const roles = new Set((await shadow.query("select rolname from pg_catalog.pg_roles")).map((r) => String(r.rolname)));
  const schemas = new Set((await shadow.query("select nspname from pg_catalog.pg_namespace")).map((r) => String(r.nspname)));
  const usable = { ...settings, default_privileges: settings.default_privileges.filter((d) => d.schema === null || schemas.has(d.schema)) };
  const statements = defaultPrivilegeStatements(usable, version, roles);
  if (statements.length) await shadow.exec(statements.join(";\n") + ";");
  if (shadow.standInMode === "statement") await shadow.exec(STAND_IN_TABLE);
  // Platform schemas the live database has, which migrations name without creating them
  // (dump-style: `create extension "pg_graphql" with schema "graphql"`).
  for (const schema of PLATFORM_SCHEMAS) {
    if (settings.schemas?.includes(schema)) await shadow.exec(`create schema if not exists ${quoteIdent(schema)}`);
  }
  // The extensions the platform preinstalls, as the live database has them: migrations use them without creating them.
  for (const e of settings.extensions) {
    if (PLATFORM_PREINSTALLED.includes(e.name)) await ensureExtension(shadow, e.name, e.schema, e.version ?? null);
  }
  // Session-wide, as the CLI's session has the role's search_path (Supabase: "$user", public, extensions).
  await shadow.query("select pg_catalog.set_config('search_path', $1, false)", [settings.search_path]);
}

/**
 * Extensions every Supabase project starts with (those the live database has are
 * created in the shadow before replay). Extensions enabled later (from the
 * dashboard or by migrations) are not: the comparison reports them.
 */
export const PLATFORM_PREINSTALLED: readonly string[] = ["pg_stat_statements", "pgcrypto", "uuid-ossp", "pgjwt", "pg_graphql", "supabase_vault", "pgsodium"];

/** Platform schemas copied into the shadow when the live database has them (not those extensions create, such as net and cron). */
export const PLATFORM_SCHEMAS: readonly string[] = ["extensions", "graphql", "graphql_public", "vault", "realtime", "supabase_functions"];

/** --shadow-url: the stand-ins made by statement, in the session; rolled back with a failed migration. */
const STAND_IN_TABLE = `create temporary table if not exists drift_guard_stand_ins (name text primary key, schema text not null)`;

/**
 * Makes an extension exist in the shadow: the real one where the shadow has it
 * (the live version where the shadow has that version), else a stand-in.
 * Returns what it did, or null when the extension was there already.
 * @example await ensureExtension(shadow, "uuid-ossp", "extensions", "1.1") // "created" | "stand-in" | null
 */
export async function ensureExtension(shadow: Shadow, name: string, schema: string, version: string | null): Promise<"created" | "stand-in" | null> {
  if (await hasExtension(shadow, name)) return null;
  const [avail] = await shadow.query(
    `select exists (select from pg_catalog.pg_available_extensions where name = $1) as available,
            exists (select from pg_catalog.pg_available_extension_versions where name = $1 and version = $2) as has_version,
            exists (select from pg_catalog.pg_available_extensions where name = $1 and comment like $3) as stand_in`,
    [name, version ?? "", `${STAND_IN_COMMENT}%`],
  );
  const target = (avail.stand_in ? fixedStandInSchema(name) : null) ?? schema;
  if (avail.available) {
    if (target !== "pg_catalog") await shadow.exec(`create schema if not exists ${quoteIdent(target)}`);
    try {
      await shadow.exec(`create extension if not exists ${quoteIdent(name)} with schema ${quoteIdent(target)}${avail.has_version ? ` version ${quoteLiteral(version!)}` : ""}`);
      return avail.stand_in ? "stand-in" : "created";
    } catch {
      if (shadow.standInMode === "extension") return null; // nothing else to try; a migration that needs it says so
    }
  }
  if (shadow.standInMode !== "statement" || !canStandIn(name)) return null;
  await shadow.exec("begin");
  try {
    await createStatementStandIn(shadow, name, schema);
    await shadow.exec("commit");
  } catch (err) {
    await shadow.exec("rollback").catch(() => {});
    throw err;
  }
  return "stand-in";
}

async function hasExtension(shadow: Shadow, name: string): Promise<boolean> {
  const [r] = await shadow.query(
    shadow.standInMode === "statement"
      ? "select exists (select from pg_catalog.pg_extension where extname = $1) or exists (select from pg_temp.drift_guard_stand_ins where name = $1) as present"
      : "select exists (select from pg_catalog.pg_extension where extname = $1) as present",
    [name],
  );
  return Boolean(r.present);
}

/** --shadow-url: the stand-in's schema and stubs, made by plain statements (stubs only outside compared schemas). */
async function createStatementStandIn(shadow: Shadow, name: string, schema: string): Promise<void> {
  const target = fixedStandInSchema(name) ?? schema;
  if (target !== "pg_catalog") await shadow.exec(`create schema if not exists ${quoteIdent(target)}`);
  const script = standInScript(name);
  const platformSchema = DEFAULT_EXCLUDED_SCHEMAS.includes(target) || target === "pg_catalog";
  if (script && platformSchema) {
    // Stubs may exist already (a shadow that had the extension once): each statement on its own.
    for (const stmt of script.replaceAll("@extschema@", quoteIdent(target)).split(/;\n/)) {
      await shadow.exec("savepoint drift_guard_stand_in");
      try {
        await shadow.exec(stmt);
        await shadow.exec("release savepoint drift_guard_stand_in");
      } catch {
        await shadow.exec("rollback to savepoint drift_guard_stand_in");
      }
    }
  }
  await shadow.query("insert into pg_temp.drift_guard_stand_ins (name, schema) values ($1, $2) on conflict (name) do nothing", [name, target]);
}

/**
 * --shadow-url: top-level extension statements for extensions the shadow lacks
 * run as stand-ins (create), or are left out (drop, alter, comment on a stand-in).
 * Returns why a statement was handled, or null to run it as it is.
 */
export function extensionStatementRule(shadow: Shadow): (statement: string) => Promise<string | null> {
  return async (statement) => {
    const created = parseCreateExtension(statement);
    if (created) {
      const [st] = await shadow.query("select exists (select from pg_temp.drift_guard_stand_ins where name = $1) as stood", [created.name]);
      if (st.stood && created.ifNotExists) return `extension ${created.name} is a stand-in in the shadow database already`;
      if (await hasExtension(shadow, created.name)) return null; // real, or a stand-in already: let Postgres answer
      const [a] = await shadow.query("select exists (select from pg_catalog.pg_available_extensions where name = $1) as available", [created.name]);
      if (a.available || !canStandIn(created.name)) return null;
      const [cur] = await shadow.query("select pg_catalog.current_schema() as s");
      await createStatementStandIn(shadow, created.name, created.schema ?? String(cur.s ?? "public"));
      return `the shadow database has no extension ${created.name}: a stand-in (its name and schema${standInScript(created.name) ? ", stubs of its functions" : ""}) took its place`;
    }
    const dropped = parseDropExtension(statement);
    if (dropped) {
      const stood = (await shadow.query("select name from pg_temp.drift_guard_stand_ins where name = any ($1::text[])", [dropped.names])).map((r) => String(r.name));
      if (!stood.length) return null;
      await shadow.query("delete from pg_temp.drift_guard_stand_ins where name = any ($1::text[])", [stood]);
      const rest = dropped.names.filter((n) => !stood.includes(n));
      if (rest.length) await shadow.exec(`drop extension ${dropped.ifExists ? "if exists " : ""}${rest.map(quoteIdent).join(", ")}`);
      return `dropped the stand-in for ${stood.join(", ")}`;
    }
    const altered = alteredExtension(statement);
    if (altered) {
      const [r] = await shadow.query("select exists (select from pg_temp.drift_guard_stand_ins where name = $1) as stood", [altered]);
      if (r.stood) return `extension ${altered} is a stand-in in the shadow database`;
    }
    return null;
  };
}

/** The stand-ins in the shadow after replay, with their schema. */
export async function standInsInUse(shadow: Shadow): Promise<Array<{ name: string; schema: string }>> {
  const rows = shadow.standInMode === "statement"
    ? await shadow.query("select name, schema from pg_temp.drift_guard_stand_ins order by name")
    : await shadow.query(
      `select e.extname as name, n.nspname as schema from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
       join pg_catalog.pg_available_extensions a on a.name = e.extname where a.comment like $1 order by 1`,
      [`${STAND_IN_COMMENT}%`],
    );
  return rows.map((r) => ({ name: String(r.name), schema: String(r.schema) }));
}

/**
 * Of the extensions named, those the shadow can only stand in for (a failed
 * migration's stand-ins are rolled back with it, but still explain its failure).
 */
export async function standInCandidates(shadow: Shadow, names: readonly string[]): Promise<string[]> {
  if (!names.length) return [];
  const rows = shadow.standInMode === "statement"
    ? await shadow.query("select n from unnest($1::text[]) n where not exists (select from pg_catalog.pg_available_extensions a where a.name = n)", [names])
    : await shadow.query("select a.name as n from pg_catalog.pg_available_extensions a where a.name = any ($1::text[]) and a.comment like $2", [names, `${STAND_IN_COMMENT}%`]);
  return rows.map((r) => String(r.n));
}

/**
 * A migration uses an extension the live database has but no migration creates
 * (enabled from the dashboard): the first such failure creates every live
 * extension the shadow still lacks, and the migration is retried. The report
 * says so: `supabase db reset` would fail there.
 */
export function missingExtensionRepair(shadow: Shadow, live: ReadonlyArray<{ name: string; schema: string; version?: string | null }>): (err: unknown) => Promise<string | null> {
  const tried = new Set<string>();
  return async (err) => {
    const code = (err as { code?: string })?.code;
    if (!code || !["42883", "42704", "3F000", "42P01"].includes(code)) return null;
    const made: string[] = [];
    for (const e of live) {
      if (tried.has(e.name) || e.name === "plpgsql") continue;
      tried.add(e.name);
      if (await ensureExtension(shadow, e.name, e.schema, e.version ?? null)) made.push(`${e.name} (schema ${e.schema})`);
    }
    if (!made.length) return null;
    return `created extension(s) ${made.join(", ")} in the shadow: the live database has them, this migration needs one, but no migration creates them ` +
      "(enabled from the dashboard?); `supabase db reset` would fail here: add `create extension if not exists …` to an earlier migration";
  };
}

export interface ReplayOptions {
  /** May handle a statement itself (returns why), e.g. `create extension pg_net` on a --shadow-url without pg_net. */
  skip?: (statement: string) => Promise<string | null>;
  /**
   * Called when a statement fails. May fix the shadow (e.g. create a role the
   * live database has) and return what it did: the migration is then retried.
   */
  repair?: (err: unknown) => Promise<string | null>;
  /** Called after each migration with how many are done. */
  progress?: (done: number) => void;
}

/** Replays the migrations in order, each in its own transaction, as `supabase db push` does. */
export async function replayMigrations(shadow: Shadow, migrations: readonly LocalMigration[], options: ReplayOptions = {}): Promise<ReplayResult> {
  const result: ReplayResult = { migrations: 0, statements: 0, skipped: [], repaired: [] };
  for (const m of migrations) {
    for (let attempt = 0;; attempt++) {
      const outcome = await replayOne(shadow, m, options.skip);
      if (outcome.ok) {
        result.statements += outcome.statements;
        result.skipped.push(...outcome.skipped);
        break;
      }
      const fixed = attempt < 20 && options.repair ? await options.repair(outcome.err) : null;
      if (!fixed) {
        const e = outcome.err as { code?: string; position?: string | number };
        const position = Number(e?.position);
        throw new ReplayError(m.path, m.version, outcome.statement, errorText(outcome.err), m.statements[outcome.statement - 1] ?? "",
          typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : null, Number.isInteger(position) && position > 0 ? position : null);
      }
      result.repaired.push({ file: m.path, statement: outcome.statement, action: fixed });
    }
    result.migrations++;
    options.progress?.(result.migrations);
  }
  return result;
}

type Outcome =
  | { ok: true; statements: number; skipped: ReplayResult["skipped"] }
  | { ok: false; statement: number; err: unknown };

async function replayOne(shadow: Shadow, m: LocalMigration, skip?: (statement: string) => Promise<string | null>): Promise<Outcome> {
  if (m.statements.length === 0) return { ok: true, statements: 0, skipped: [] };
  const skipped: ReplayResult["skipped"] = [];
  let ran = 0;
  await shadow.exec("begin");
  let i = 0;
  try {
    for (; i < m.statements.length; i++) {
      const stmt = m.statements[i];
      const why = skip ? await skip(stmt) : null;
      if (why) {
        skipped.push({ file: m.path, statement: i + 1, reason: why });
        continue;
      }
      await shadow.run(stmt);
      ran++;
    }
    await shadow.exec("commit");
    return { ok: true, statements: ran, skipped };
  } catch (err) {
    await shadow.exec("rollback").catch(() => {});
    return { ok: false, statement: i + 1, err };
  }
}

/**
 * The usual repair: a migration names a role that the live platform has but
 * the shadow lacks (supabase_admin, dashboard_user, a role made by hand…).
 * The role is created in the shadow (nologin) and the migration retried.
 */
export function missingRoleRepair(shadow: Shadow, liveRoles: ReadonlySet<string>): (err: unknown) => Promise<string | null> {
  return async (err) => {
    const e = err as { code?: string; message?: string };
    const m = e?.code === "42704" ? /role "((?:[^"]|"")+)" does not exist/.exec(e.message ?? "") : null;
    if (!m || !liveRoles.has(m[1])) return null;
    await shadow.exec(`do $$ begin if not exists (select from pg_catalog.pg_roles where rolname = ${quoteLiteral(m[1])}) then create role ${quoteIdent(m[1])} nologin; end if; end $$`);
    return `created role ${m[1]} in the shadow (the live database has it; migrations use it)`;
  };
}

function errorText(err: unknown): string {
  const e = err as { message?: string; code?: string; detail?: string; hint?: string };
  const parts = [e?.message ?? String(err)];
  if (e?.code && /^[0-9A-Z]{5}$/.test(e.code)) parts.push(`(SQLSTATE ${e.code})`);
  if (e?.detail) parts.push(`detail: ${e.detail}`);
  return parts.join(" ");
}

/**
 * Re-deparses view queries on the shadow's server. Postgres 16 stopped
 * qualifying column names in single-table view definitions, so a Postgres 15
 * live database and the newer embedded shadow spell the same view differently.
 * Creating the live text as a temporary view on the shadow and reading it back
 * spells both alike. Returns name -> canonical text, for the views it could
 * create (a view over objects the shadow lacks simply stays different).
 */
export async function canonicalViewDefinitions(shadow: Shadow, views: ReadonlyArray<{ name: string; definition: string }>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!views.length) return out;
  await shadow.exec("begin");
  try {
    await shadow.query("select pg_catalog.set_config('search_path', '', true)");
    for (const v of views) {
      await shadow.exec("savepoint drift_guard_canon");
      try {
        await shadow.run(`create temporary view drift_guard_canon as ${v.definition.trim().replace(/;+$/, "")}`);
        const [row] = await shadow.query("select pg_catalog.pg_get_viewdef('pg_temp.drift_guard_canon'::pg_catalog.regclass) as d");
        out.set(v.name, String(row.d));
      } catch {
        // not creatable here: leave it as it is
      }
      await shadow.exec("rollback to savepoint drift_guard_canon");
    }
  } finally {
    await shadow.exec("rollback").catch(() => {});
  }
  return out;
}
