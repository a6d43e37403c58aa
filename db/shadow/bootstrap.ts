/**
 * Before the first migration: the shadow gets what the live platform has and
 * migrations never create (stand-ins, default privileges, search_path, the
 * platform's schemas and preinstalled extensions).
 */
import { readFileSync } from "node:fs";
import { quoteIdent, quoteLiteral } from "../../shared/schema_diff.ts";
import { SHADOW_SCHEMAS } from "../../shared/platform_schemas.ts";
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

/** Platform schemas made in the shadow when the live database has them (not those extensions create, such as net and cron). */
export const PLATFORM_SCHEMAS: readonly string[] = SHADOW_SCHEMAS;

