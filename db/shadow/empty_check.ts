/** A --shadow-url must be empty: what counts as a user object there. */
import { DriftGuardError } from "../../shared/types.ts";
import { DEFAULT_EXCLUDED_SCHEMAS } from "../../shared/schema_diff.ts";
import { describeTarget } from "../database_error.ts";
import type { Shadow } from "./shadow.ts";


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
