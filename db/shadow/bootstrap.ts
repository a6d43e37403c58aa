/**
 * Before the first migration: the shadow gets what the live platform has and
 * migrations never create (stand-ins, default privileges, search_path, the
 * platform's schemas and preinstalled extensions).
 */
import { readFileSync } from "node:fs";
import { quoteIdent, quoteLiteral } from "../../shared/schema_diff.ts";
import { SHADOW_SCHEMAS } from "../../shared/platform_schemas.ts";
import { type SkeletonStatement, skeletonStatements } from "../../shared/platform_skeleton.ts";
import type { LocalMigration } from "../../shared/types.ts";
import type { PlatformSettings } from "../catalog.ts";
import { STAND_INS_PATH } from "../extension_stand_ins.ts";
import { ensureExtension, STAND_IN_TABLE } from "./extensions.ts";
import type { Shadow } from "./shadow.ts";

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

/** A platform object the shadow could not build from the live skeleton, and why. */
export interface UnbuiltPlatformObject {
  object: string;
  error: string;
}

export interface BootstrapOptions {
  /** The migrations about to be replayed: what they create themselves is left out of the skeleton. */
  migrations?: readonly LocalMigration[];
}

/**
 * Prepares the shadow as the live platform is before the first migration:
 * stand-ins, the live skeleton of the platform schemas (shared/platform_skeleton.ts),
 * the live platform's default privileges, preinstalled extensions and search_path.
 * Returns the platform objects it could not build.
 */
export async function bootstrapShadow(shadow: Shadow, settings: PlatformSettings, options: BootstrapOptions = {}): Promise<{ unbuilt: UnbuiltPlatformObject[] }> {
  await shadow.query("select pg_catalog.set_config('drift_guard.supabase_platform', $1, false)", [settings.supabase ? "on" : "off"]);
  await shadow.exec(readFileSync(STAND_INS_PATH, "utf8"));
  const skeleton = settings.skeleton;
  if (skeleton) shadow.skeleton = skeleton;
  const own = options.migrations ? createdByMigrations(options.migrations) : new Set<string>();
  const platform = skeleton ? skeletonStatements(skeleton, null).filter((s) => !own.has(s.object.replace(/\(.*$/, "").split(" ")[1] ?? "")) : [];
  const unbuilt: UnbuiltPlatformObject[] = [];
  // Schemas first, so that default privileges in them can be copied.
  await runGuarded(shadow, platform.filter((s) => s.object.startsWith("schema ")), unbuilt);
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
  // Then the rest of the skeleton, which may use those extensions' types.
  await runGuarded(shadow, platform.filter((s) => !s.object.startsWith("schema ")), unbuilt);
  // Session-wide, as the CLI's session has the role's search_path (Supabase: "$user", public, extensions).
  shadow.sessionSearchPath = settings.search_path;
  await shadow.query("select pg_catalog.set_config('search_path', $1, false)", [settings.search_path]);
  return { unbuilt };
}

/** Runs each statement in its own savepoint: one the shadow cannot build (a type it lacks) is noted, the rest go on. */
async function runGuarded(shadow: Shadow, statements: readonly SkeletonStatement[], unbuilt: UnbuiltPlatformObject[]): Promise<void> {
  if (!statements.length) return;
  await shadow.exec("begin");
  try {
    for (const s of statements) {
      await shadow.exec("savepoint drift_guard_skeleton");
      try {
        await shadow.run(s.sql);
        await shadow.exec("release savepoint drift_guard_skeleton");
      } catch (err) {
        await shadow.exec("rollback to savepoint drift_guard_skeleton");
        if (!unbuilt.some((u) => u.object === s.object)) unbuilt.push({ object: s.object, error: (err as Error)?.message ?? String(err) });
      }
    }
    await shadow.exec("commit");
  } catch (err) {
    await shadow.exec("rollback").catch(() => {});
    throw err;
  }
}

/**
 * Objects the migrations create in platform schemas themselves (`create function auth.is_admin()`,
 * `create table storage.x`), as schema.name: the live database has them because a migration made
 * them, so the skeleton leaves them to that migration.
 */
export function createdByMigrations(migrations: readonly LocalMigration[]): Set<string> {
  const out = new Set<string>();
  const ident = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
  const re = new RegExp(String.raw`\bcreate\s+(?:or\s+replace\s+)?(?:unlogged\s+)?(?:function|procedure|table|type|domain|sequence|view|materialized\s+view)\s+(?:if\s+not\s+exists\s+)?(${ident})\s*\.\s*(${ident})`, "gi");
  const bare = (x: string) => (x.startsWith('"') ? x.slice(1, -1).replace(/""/g, '"') : x.toLowerCase());
  for (const m of migrations) {
    for (const st of m.statements) {
      for (const hit of st.matchAll(re)) out.add(`${bare(hit[1])}.${bare(hit[2])}`);
    }
  }
  return out;
}

/**
 * Extensions every Supabase project starts with (those the live database has are
 * created in the shadow before replay). Extensions enabled later (from the
 * dashboard or by migrations) are not: the comparison reports them.
 */
export const PLATFORM_PREINSTALLED: readonly string[] = ["pg_stat_statements", "pgcrypto", "uuid-ossp", "pgjwt", "pg_graphql", "supabase_vault", "pgsodium"];

/** Platform schemas made in the shadow when the live database has them (not those extensions create, such as net and cron). */
export const PLATFORM_SCHEMAS: readonly string[] = SHADOW_SCHEMAS;

