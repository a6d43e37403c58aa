/**
 * Reads the live platform's skeleton: what the live database has in the platform
 * schemas (shared/platform_schemas.ts, those marked `skeleton`): schemas, types,
 * sequences, tables with their columns and keys, and functions' signatures, plus
 * which extension owns each, and the extensions' schemas. No function bodies, no
 * data, no column default but the few plain shapes shared/platform_skeleton.ts
 * lets through. shared/platform_skeleton.ts turns it into the statements the
 * shadow runs before replay.
 *
 * One query, one JSON text value (the same on every driver), read with search_path = ''
 * so that every type and expression comes back schema-qualified.
 */
import { SKELETON_SCHEMAS } from "../shared/platform_schemas.ts";
import type { PlatformSkeleton } from "../shared/platform_skeleton.ts";
import type { QueryFn } from "./catalog.ts";

const SKELETON_SQL = `
with sk as (select unnest($1::text[]) as nspname),
ns as (select n.oid, n.nspname from pg_catalog.pg_namespace n join sk using (nspname)),
member as (
  select d.classid, d.objid, e.extname from pg_catalog.pg_depend d join pg_catalog.pg_extension e on e.oid = d.refobjid
  where d.deptype = 'e' and d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
),
ext_of as (select classid, objid, min(extname) as extname from member group by classid, objid)
select json_build_object(
  'schemas', coalesce((select json_agg(json_build_object('name', n.nspname,
      'extension', (select m.extname from ext_of m where m.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass and m.objid = n.oid))
      order by n.nspname) from ns n), '[]'::json),
  -- fixed_schema: the schema the extension's control file forces (pg_tle: pgtle), as the server reports it.
  'extensions', coalesce((select json_agg(json_build_object('name', e.extname, 'schema', n.nspname,
      'fixed_schema', (select v.schema from pg_catalog.pg_available_extension_versions v where v.name = e.extname and v.version = e.extversion limit 1))
      order by e.extname) from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace), '[]'::json),
  'types', coalesce((select json_agg(json_build_object(
      'schema', n.nspname, 'name', t.typname, 'kind', t.typtype,
      'labels', case when t.typtype = 'e' then (select json_agg(en.enumlabel order by en.enumsortorder) from pg_catalog.pg_enum en where en.enumtypid = t.oid) end,
      'base', case when t.typtype = 'd' then pg_catalog.format_type(t.typbasetype, t.typtypmod) end,
      'attributes', case when t.typtype = 'c' then (select json_agg(pg_catalog.quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) order by a.attnum)
                                                   from pg_catalog.pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped) end,
      'subtype', case when t.typtype = 'r' then (select pg_catalog.format_type(r.rngsubtype, null) from pg_catalog.pg_range r where r.rngtypid = t.oid) end,
      'extension', (select m.extname from ext_of m where m.classid = 'pg_catalog.pg_type'::pg_catalog.regclass and m.objid = t.oid))
      order by n.nspname, t.typname)
    from pg_catalog.pg_type t join ns n on n.oid = t.typnamespace
    where t.typtype in ('e', 'd', 'r') or (t.typtype = 'c' and (select c.relkind from pg_catalog.pg_class c where c.oid = t.typrelid) = 'c')), '[]'::json),
  'sequences', coalesce((select json_agg(json_build_object('schema', n.nspname, 'name', c.relname,
      'extension', (select m.extname from ext_of m where m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and m.objid = c.oid))
      order by n.nspname, c.relname)
    from pg_catalog.pg_class c join ns n on n.oid = c.relnamespace where c.relkind = 'S'
      and not exists (select from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = c.oid and d.deptype = 'i')), '[]'::json),
  'tables', coalesce((select json_agg(json_build_object('schema', n.nspname, 'name', c.relname, 'rls', c.relrowsecurity,
      'extension', (select m.extname from ext_of m where m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and m.objid = c.oid),
      'columns', coalesce((select json_agg(json_build_object('name', a.attname, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
                  'not_null', a.attnotnull, 'identity', nullif(a.attidentity, ''),
                  'default', case when a.attgenerated = '' then pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) end) order by a.attnum)
                 from pg_catalog.pg_attribute a left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
                 where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]'::json),
      'keys', coalesce((select json_agg(json_build_object('name', co.conname, 'definition', pg_catalog.pg_get_constraintdef(co.oid)) order by co.contype, co.conname)
                 from pg_catalog.pg_constraint co where co.conrelid = c.oid and co.contype in ('p', 'u')), '[]'::json))
      order by n.nspname, c.relname)
    from pg_catalog.pg_class c join ns n on n.oid = c.relnamespace where c.relkind in ('r', 'p') and not c.relispartition), '[]'::json),
  'functions', coalesce((select json_agg(json_build_object('schema', n.nspname, 'name', p.proname,
      'kind', p.prokind, 'arguments', pg_catalog.pg_get_function_arguments(p.oid),
      'identity_arguments', pg_catalog.pg_get_function_identity_arguments(p.oid),
      'result', pg_catalog.pg_get_function_result(p.oid),
      -- What a stub returns: nothing (set, void, OUT parameters, event triggers) or null.
      'returns_nothing', p.proretset or p.prorettype in ('pg_catalog.void'::pg_catalog.regtype, 'pg_catalog.event_trigger'::pg_catalog.regtype)
                         or coalesce('o' = any (p.proargmodes) or 'b' = any (p.proargmodes) or 't' = any (p.proargmodes), false),
      'extension', (select m.extname from ext_of m where m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and m.objid = p.oid))
      order by n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid))
    from pg_catalog.pg_proc p join ns n on n.oid = p.pronamespace where p.prokind in ('f', 'p')), '[]'::json)
)::text as skeleton`;

/**
 * The live database's platform skeleton.
 * @example const skeleton = await readPlatformSkeleton(query); skeleton.tables.find((t) => t.name === "identities")
 */
export async function readPlatformSkeleton(query: QueryFn): Promise<PlatformSkeleton> {
  await query(`select pg_catalog.set_config('search_path', '', true)`);
  const [row] = await query(SKELETON_SQL, [SKELETON_SCHEMAS]);
  return JSON.parse(String(row.skeleton)) as PlatformSkeleton;
}
