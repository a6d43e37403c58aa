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
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import type { LocalMigration } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import { quoteIdent, quoteLiteral } from "../shared/schema_diff.ts";
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

const CREATE_EXTENSION = /^\s*create\s+extension\s+(?:if\s+not\s+exists\s+)?(?:"((?:[^"]|"")+)"|([A-Za-z_][\w$-]*))/i;

/** The extension a `create extension` statement creates, or null. */
export function createdExtension(statement: string): string | null {
  const m = CREATE_EXTENSION.exec(stripLeadingComments(statement));
  if (!m) return null;
  return m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2].toLowerCase();
}

/** Statements as the CLI stores them may begin with comments. */
export function stripLeadingComments(statement: string): string {
  let s = statement;
  for (;;) {
    const t = s.replace(/^\s+/, "");
    if (t.startsWith("--")) {
      const nl = t.indexOf("\n");
      s = nl < 0 ? "" : t.slice(nl + 1);
    } else if (t.startsWith("/*")) {
      let depth = 0;
      let i = 0;
      for (; i < t.length; i++) {
        if (t.startsWith("/*", i)) {
          depth++;
          i++;
        } else if (t.startsWith("*/", i)) {
          depth--;
          i++;
          if (depth === 0) break;
        }
      }
      s = t.slice(i + 1);
    } else {
      return t;
    }
  }
}

export async function openEmbeddedShadow(extensionNames: Iterable<string>): Promise<Shadow & { loaded: string[] }> {
  const { PGlite } = await import("@electric-sql/pglite");
  const extensions: Record<string, unknown> = {};
  const loaded: string[] = [];
  for (const name of new Set(extensionNames)) {
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
      // Not installed (the pgvector package is optional): `create extension` will say so.
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "drift-guard-shadow-"));
  let db: InstanceType<typeof PGlite>;
  try {
    const cached = readInitdbCache();
    db = await PGlite.create({ dataDir: dir, extensions: extensions as any, relaxedDurability: true, ...(cached ? { loadDataDir: cached } : {}) });
    if (!cached) await writeInitdbCache(db);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new DriftGuardError("internal", `cannot start the embedded shadow database (PGlite): ${(err as Error).message}`, "pass --shadow-url postgresql://… (an empty Postgres) instead");
  }
  return {
    kind: "embedded",
    loaded,
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
 * every time, so the first run keeps a gzipped copy of the fresh data directory
 * (about 5 MB) and later runs start from it. Keyed by the PGlite version.
 * $DRIFT_GUARD_CACHE_DIR, else $XDG_CACHE_HOME/drift-guard, else ~/.cache/drift-guard;
 * DRIFT_GUARD_CACHE_DIR=off disables it. Any failure just means no cache.
 */
function initdbCacheFile(): string | null {
  const env = process.env;
  if (env.DRIFT_GUARD_CACHE_DIR === "off") return null;
  let version = "unknown";
  try {
    const entry = fileURLToPath(import.meta.resolve("@electric-sql/pglite"));
    version = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")).version;
  } catch {
    return null;
  }
  const base = env.DRIFT_GUARD_CACHE_DIR || (env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, "drift-guard") : join(homedir() || tmpdir(), ".cache", "drift-guard"));
  return join(base, `pglite-${version}-initdb.tar.gz`);
}

function readInitdbCache(): Blob | null {
  const file = initdbCacheFile();
  try {
    return file && existsSync(file) ? new Blob([readFileSync(file)]) : null;
  } catch {
    return null;
  }
}

async function writeInitdbCache(db: { dumpDataDir(compression?: "gzip" | "auto" | "none"): Promise<File | Blob> }): Promise<void> {
  const file = initdbCacheFile();
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

/** A --shadow-url must be empty: leftovers from an earlier run would hide drift. */
export async function assertEmptyShadow(shadow: Shadow, url: string): Promise<void> {
  const rows = await shadow.query(`
    select n.nspname || '.' || c.relname as name from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname !~ '^pg_' and n.nspname not in ('information_schema', 'auth', 'storage', 'extensions') and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
    union all
    select n.nspname || '.' || p.proname || '()' from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname !~ '^pg_' and n.nspname not in ('information_schema', 'auth', 'storage', 'extensions')
      and not exists (select from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and d.objid = p.oid and d.deptype = 'e')
    union all
    select n.nspname from pg_catalog.pg_namespace n
    where n.nspname !~ '^pg_' and n.nspname not in ('information_schema', 'public', 'auth', 'storage', 'extensions')
      and not exists (select from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass and d.objid = n.oid and d.deptype = 'e')
    limit 3`);
  if (rows.length) {
    throw new DriftGuardError(
      "bad_input",
      `the shadow database ${describeTarget(url)} is not empty (it has ${rows.map((r) => r.name).join(", ")}${rows.length === 3 ? ", …" : ""})`,
      "pass a freshly created, empty database: drift-guard replays every migration into it (e.g. createdb drift_guard_shadow)",
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
  constructor(readonly file: string, readonly version: string, readonly statement: number, readonly detail: string, readonly sqlText: string) {
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
  // Session-wide, as the CLI's session has the role's search_path (Supabase: "$user", public, extensions).
  await shadow.query("select pg_catalog.set_config('search_path', $1, false)", [settings.search_path]);
}

export interface ReplayOptions {
  /** May leave out a statement (returns why), e.g. `create extension pg_net` on the embedded shadow. */
  skip?: (statement: string) => string | null;
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
      if (!fixed) throw new ReplayError(m.path, m.version, outcome.statement, errorText(outcome.err), m.statements[outcome.statement - 1] ?? "");
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

async function replayOne(shadow: Shadow, m: LocalMigration, skip?: (statement: string) => string | null): Promise<Outcome> {
  if (m.statements.length === 0) return { ok: true, statements: 0, skipped: [] };
  const skipped: ReplayResult["skipped"] = [];
  let ran = 0;
  await shadow.exec("begin");
  let i = 0;
  try {
    for (; i < m.statements.length; i++) {
      const stmt = m.statements[i];
      const why = skip?.(stmt);
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
