/**
 * Extensions in the shadow: the real one where the shadow has it, else a stand-in
 * (db/extension_stand_ins.ts), made as an extension (embedded) or by statements
 * (--shadow-url, remembered in a temporary table).
 */
import { DEFAULT_EXCLUDED_SCHEMAS, quoteIdent, quoteLiteral } from "../../shared/schema_diff.ts";
import { alteredExtension, parseCreateExtension, parseDropExtension } from "../../shared/extension_statements.ts";
import { skeletonFixedSchema, skeletonStandInScript } from "../../shared/platform_skeleton.ts";
import { canStandIn, fixedStandInSchema, STAND_IN_COMMENT, standInScript } from "../extension_stand_ins.ts";
import type { Shadow } from "./shadow.ts";

/** The extension a top-level `create extension` statement creates, or null. */
export function createdExtension(statement: string): string | null {
  return parseCreateExtension(statement)?.name ?? null;
}

/** --shadow-url: the stand-ins made by statement, in the session; rolled back with a failed migration. */
export const STAND_IN_TABLE = `create temporary table if not exists drift_guard_stand_ins (name text primary key, schema text not null)`;

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
  const target = (avail.stand_in ? skeletonFixedSchema(shadow.skeleton, name) ?? fixedStandInSchema(name) : null) ?? schema;
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

/** A stand-in's stubs: the live extension's members where the live database has it, else the hand-written ones. */
function statementStandInScript(shadow: Shadow, name: string): string {
  return (shadow.skeleton ? skeletonStandInScript(shadow.skeleton, name, standInScript(name)) : "") || standInScript(name);
}

/** --shadow-url: the stand-in's schema and stubs, made by plain statements (stubs only outside compared schemas). */
async function createStatementStandIn(shadow: Shadow, name: string, schema: string): Promise<void> {
  const target = skeletonFixedSchema(shadow.skeleton, name) ?? fixedStandInSchema(name) ?? schema;
  if (target !== "pg_catalog") await shadow.exec(`create schema if not exists ${quoteIdent(target)}`);
  const script = statementStandInScript(shadow, name);
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
      return `the shadow database has no extension ${created.name}: a stand-in (its name and schema${statementStandInScript(shadow, created.name) ? ", stubs of its functions" : ""}) took its place`;
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
export function missingExtensionRepair(
  shadow: Shadow,
  live: ReadonlyArray<{ name: string; schema: string; version?: string | null }>,
  migrationsCreate: ReadonlySet<string> = new Set(),
): (err: unknown) => Promise<string | null> {
  const tried = new Set<string>();
  return async (err) => {
    const code = (err as { code?: string })?.code;
    if (!code || !["42883", "42704", "3F000", "42P01"].includes(code)) return null;
    const made: Array<{ name: string; schema: string }> = [];
    for (const e of live) {
      if (tried.has(e.name) || e.name === "plpgsql") continue;
      tried.add(e.name);
      if (await ensureExtension(shadow, e.name, e.schema, e.version ?? null)) made.push(e);
    }
    if (!made.length) return null;
    const unmade = made.filter((m) => !migrationsCreate.has(m.name));
    const list = (xs: typeof made) => xs.map((m) => `${m.name} (schema ${m.schema})`).join(", ");
    // An extension some migration creates is no reason to doubt `supabase db reset`: only the others are.
    if (!unmade.length) return `created extension(s) ${list(made)} in the shadow as the live database has them; the migrations create them too`;
    return `created extension(s) ${list(made)} in the shadow: the live database has them, this migration needs one` +
      (made.length > unmade.length ? `, and no migration creates ${list(unmade)}` : ", but no migration creates them") +
      " (enabled from the dashboard?); `supabase db reset` would fail here: add `create extension if not exists …` to an earlier migration";
  };
}
