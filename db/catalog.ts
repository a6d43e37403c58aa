/**
 * One catalog reader for every connection: the live database (postgres.js), a
 * real-Postgres shadow (postgres.js) and the embedded PGlite shadow all answer
 * the SAME SQL through the tiny CatalogConnection interface below.
 *
 * Each query returns one text value: a JSON array of CatalogObject, built on
 * the server. Text is the one type every driver returns alike (no int8, oid,
 * array or jsonb parsing differences), so the snapshots compare byte for byte.
 *
 * Everything is read inside one read-only transaction with search_path = '',
 * so that every deparsed expression (defaults, policies, views, indexes,
 * function signatures) schema-qualifies user objects the same way on every
 * server, whatever the session's search_path was.
 */
import type { PlatformSkeleton } from "../shared/platform_skeleton.ts";
import { readPlatformSkeleton } from "./platform_skeleton.ts";
import { type CatalogObject, type CatalogSnapshot, DEFAULT_EXCLUDED_SCHEMAS, type SchemaFilter } from "../shared/schema_diff.ts";

/** Runs one statement; rows as plain objects. */
export type QueryFn = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** What a catalog reader needs from a connection: a transaction to run queries in. */
export interface CatalogConnection {
  transaction<T>(fn: (query: QueryFn) => Promise<T>): Promise<T>;
}

/** The subset of postgres.js we use (kept structural so db/ stays free of driver types here). */
interface PostgresLike {
  begin<T>(options: string, fn: (tx: { unsafe(text: string, params?: any[]): Promise<any> }) => Promise<T>): Promise<any>;
}

/** A postgres.js pool or reserved connection (the live database, or a --shadow-url shadow). */
export function postgresCatalog(sql: PostgresLike): CatalogConnection {
  return {
    async transaction<T>(fn: (query: QueryFn) => Promise<T>): Promise<T> {
      return (await sql.begin("isolation level repeatable read read only", (tx) =>
        fn(async (text, params) => [...(await tx.unsafe(text, params ?? []))] as Record<string, unknown>[]))) as T;
    },
  };
}

/** The subset of PGlite we use. */
interface PGliteLike {
  transaction<T>(fn: (tx: { query(text: string, params?: any[]): Promise<{ rows: any[] }> }) => Promise<T>): Promise<T>;
}

/** The embedded PGlite shadow. */
export function pgliteCatalog(db: PGliteLike): CatalogConnection {
  return {
    transaction<T>(fn: (query: QueryFn) => Promise<T>): Promise<T> {
      return db.transaction((tx) => fn(async (text, params) => (await tx.query(text, params ?? [])).rows as Record<string, unknown>[]));
    },
  };
}

/**
 * Shared prelude. $1 is the filter as JSON text ($1::text::jsonb: postgres.js
 * with prepare:false would double-encode a plain $1::jsonb).
 *  ns     : the schemas we compare
 *  pns    : ns plus the platform schemas whose tables carry user-written
 *           policies and triggers (storage.objects policies, auth.users triggers)
 *  extdep : objects an extension owns (ignored everywhere)
 */
const PRELUDE = `
with cfg as (select $1::text::jsonb as c),
extdep as (select classid, objid from pg_catalog.pg_depend where deptype = 'e'),
allns as (
  select n.oid, n.nspname, n.nspowner, n.nspacl from pg_catalog.pg_namespace n
  where n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
    and not exists (select from extdep d where d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass and d.objid = n.oid)
),
ns as (
  select allns.* from allns, cfg
  where case when jsonb_typeof(cfg.c->'include') = 'array'
             then allns.nspname in (select jsonb_array_elements_text(cfg.c->'include'))
             else true end
    and allns.nspname not in (select jsonb_array_elements_text(cfg.c->'exclude'))
),
pns as (
  select * from ns
  union
  select allns.* from allns, cfg where allns.nspname in (select jsonb_array_elements_text(cfg.c->'attached'))
),
rel as (
  select c.oid, c.relname, c.relkind, c.relowner, c.relacl, c.relrowsecurity, c.relforcerowsecurity, c.relpersistence, c.relreplident,
         c.reloptions, c.relispartition, c.relpartbound, n.nspname,
         pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) as qname,
         n.oid in (select oid from ns) as compared
  from pg_catalog.pg_class c join pns n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'f', 'v', 'm', 'S')
    and not exists (select from extdep d where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = c.oid)
),
-- The role migrations run as: the owner of the migration history table (the Supabase CLI made it), else the
-- current user. Objects it owns are owned "by default"; others have an owner worth comparing.
migrator as (
  select coalesce((select c.relowner from pg_catalog.pg_class c where c.oid = pg_catalog.to_regclass('supabase_migrations.schema_migrations')),
                  (select r.oid from pg_catalog.pg_roles r where r.rolname = current_user)) as oid
)`;

const RELKIND_WORD = `case r.relkind when 'r' then 'table' when 'p' then 'table' when 'f' then 'table' when 'v' then 'view'
  when 'm' then 'materialized_view' when 'S' then 'sequence' end`;

const agg = (select: string, order: string, from: string) =>
  `${PRELUDE}
select coalesce(json_agg(o order by ${order}), '[]')::text as objects from (${select}) o ${from}`;

const QUERIES: Record<string, string> = {
  schemas: agg(
    `select 'schema' as kind, pg_catalog.quote_ident(n.nspname) as name, json_build_object() as props,
            json_build_object('owner', pg_catalog.pg_get_userbyid(n.nspowner)) as info
     from ns n`,
    "o.name",
    "",
  ),

  extensions: agg(
    `select 'extension' as kind, pg_catalog.quote_ident(e.extname) as name, 'schema:' || pg_catalog.quote_ident(n.nspname) as parent,
            json_build_object('schema', n.nspname) as props, json_build_object('version', e.extversion, 'relocatable', e.extrelocatable) as info
     from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace, cfg
     -- Extensions are compared in the platform schemas too (the dashboard enables them in extensions), and in
     -- pg_catalog (pg_cron's usual home), so that one living elsewhere live is a schema difference, not an extra.
     where (n.nspname !~ '^pg_' or n.nspname = 'pg_catalog') and e.extname <> 'plpgsql'
       and case when jsonb_typeof(cfg.c->'include') = 'array'
                then n.nspname in (select jsonb_array_elements_text(cfg.c->'include'))
                else n.nspname not in (select jsonb_array_elements_text(cfg.c->'exclude'))
                     or n.nspname in (select jsonb_array_elements_text(cfg.c->'platform')) end`,
    "o.name",
    "",
  ),

  tables: agg(
    `select 'table' as kind, r.qname as name, 'schema:' || pg_catalog.quote_ident(r.nspname) as parent,
            json_build_object(
              'partitioned', r.relkind = 'p',
              'foreign', r.relkind = 'f',
              'unlogged', r.relpersistence = 'u',
              'partition_key', case when r.relkind = 'p' then pg_catalog.pg_get_partkeydef(r.oid) end,
              'partition_of', (select pr.qname from pg_catalog.pg_inherits i join rel pr on pr.oid = i.inhparent
                               where i.inhrelid = r.oid and r.relispartition),
              'partition_bound', case when r.relispartition then pg_catalog.pg_get_expr(r.relpartbound, r.oid) end,
              'inherits', (select json_agg(pr.qname order by i.inhseqno) from pg_catalog.pg_inherits i join rel pr on pr.oid = i.inhparent
                           where i.inhrelid = r.oid and not r.relispartition),
              'options', (select json_agg(x order by x) from unnest(r.reloptions) x),
              -- What logical replication (Realtime) sends of old rows.
              'replica_identity', case r.relreplident when 'd' then 'default' when 'n' then 'nothing' when 'f' then 'full'
                when 'i' then 'using index ' || coalesce((select pg_catalog.quote_ident(ic.relname) from pg_catalog.pg_index i
                                                         join pg_catalog.pg_class ic on ic.oid = i.indexrelid
                                                         where i.indrelid = r.oid and i.indisreplident), '?') end
            ) as props,
            json_build_object('owner', pg_catalog.pg_get_userbyid(r.relowner)) as info
     from rel r where r.compared and r.relkind in ('r', 'p', 'f')`,
    "o.name",
    "",
  ),

  rls: agg(
    `select 'rls' as kind, r.qname as name, 'table:' || r.qname as parent,
            json_build_object('enabled', r.relrowsecurity, 'forced', r.relforcerowsecurity) as props
     from rel r where r.compared and r.relkind in ('r', 'p')`,
    "o.name",
    "",
  ),

  columns: agg(
    `select 'column' as kind, r.qname || '.' || pg_catalog.quote_ident(a.attname) as name, 'table:' || r.qname as parent,
            json_build_object(
              'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
              'not_null', a.attnotnull,
              'default', case when a.attgenerated = '' then pg_catalog.pg_get_expr(d.adbin, d.adrelid) end,
              'generated', case when a.attgenerated <> '' then pg_catalog.pg_get_expr(d.adbin, d.adrelid) end,
              'identity', case a.attidentity when 'a' then 'always' when 'd' then 'by default' end,
              'collation', case when a.attcollation <> t.typcollation then
                  (select pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname)
                   from pg_catalog.pg_collation co join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace where co.oid = a.attcollation) end
            ) as props,
            json_build_object('table', r.qname, 'column', pg_catalog.quote_ident(a.attname), 'position', a.attnum) as info
     from rel r join pg_catalog.pg_attribute a on a.attrelid = r.oid
     join pg_catalog.pg_type t on t.oid = a.atttypid
     left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where r.compared and r.relkind in ('r', 'p', 'f') and a.attnum > 0 and not a.attisdropped`,
    "o.name",
    "",
  ),

  constraints: agg(
    // contype 'n' (NOT NULL, catalogued from Postgres 18) is the column's not_null already.
    `select 'constraint' as kind, pg_catalog.quote_ident(co.conname) || ' on ' || r.qname as name, 'table:' || r.qname as parent,
            json_build_object('type', co.contype, 'definition', pg_catalog.pg_get_constraintdef(co.oid)) as props,
            json_build_object('table', r.qname, 'constraint', pg_catalog.quote_ident(co.conname)) as info
     from pg_catalog.pg_constraint co join rel r on r.oid = co.conrelid
     where r.compared and co.contype <> 'n'`,
    "o.name",
    "",
  ),

  indexes: agg(
    `select 'index' as kind, pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(ic.relname) as name,
            (${RELKIND_WORD}) || ':' || r.qname as parent,
            json_build_object('table', r.qname, 'definition', pg_catalog.pg_get_indexdef(i.indexrelid)) as props,
            json_build_object('constraint', (select pg_catalog.quote_ident(co.conname) from pg_catalog.pg_constraint co
                                             where co.conindid = i.indexrelid and co.conrelid = r.oid and co.contype in ('p', 'u', 'x') limit 1)) as info
     from pg_catalog.pg_index i join rel r on r.oid = i.indrelid
     join pg_catalog.pg_class ic on ic.oid = i.indexrelid
     where r.compared and r.relkind in ('r', 'p', 'm')
       and not exists (select from extdep d where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = ic.oid)`,
    "o.name",
    "",
  ),

  views: agg(
    `select case r.relkind when 'v' then 'view' else 'materialized_view' end as kind, r.qname as name,
            'schema:' || pg_catalog.quote_ident(r.nspname) as parent,
            json_build_object('definition', pg_catalog.pg_get_viewdef(r.oid),
                              'options', (select json_agg(x order by x) from unnest(r.reloptions) x)) as props,
            json_build_object('columns', (select json_agg(pg_catalog.quote_ident(a.attname) order by a.attnum) from pg_catalog.pg_attribute a
                                          where a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped)) as info
     from rel r where r.compared and r.relkind in ('v', 'm')`,
    "o.name",
    "",
  ),

  sequences: agg(
    `select 'sequence' as kind, r.qname as name,
            coalesce((select 'table:' || ot.qname from pg_catalog.pg_depend d join rel ot on ot.oid = d.refobjid
                      where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = r.oid and d.deptype in ('a', 'i')
                        and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass limit 1),
                     'schema:' || pg_catalog.quote_ident(r.nspname)) as parent,
            json_build_object('type', pg_catalog.format_type(s.seqtypid, null), 'start', s.seqstart::text, 'increment', s.seqincrement::text,
                              'min', s.seqmin::text, 'max', s.seqmax::text, 'cache', s.seqcache::text, 'cycle', s.seqcycle) as props,
            json_build_object('owned_by', (select ot.qname || '.' || pg_catalog.quote_ident(a.attname)
                                           from pg_catalog.pg_depend d join rel ot on ot.oid = d.refobjid
                                           join pg_catalog.pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
                                           where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = r.oid
                                             and d.deptype in ('a', 'i') limit 1),
                              'identity', exists (select from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                                  and d.objid = r.oid and d.deptype = 'i')) as info
     from rel r join pg_catalog.pg_sequence s on s.seqrelid = r.oid where r.compared`,
    "o.name",
    "",
  ),

  functions: agg(
    `select 'function' as kind,
            pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')' as name,
            'schema:' || pg_catalog.quote_ident(n.nspname) as parent,
            json_build_object(
              'kind', case p.prokind when 'f' then 'function' when 'p' then 'procedure' when 'a' then 'aggregate' when 'w' then 'window' end,
              'arguments', pg_catalog.pg_get_function_arguments(p.oid),
              'returns', pg_catalog.pg_get_function_result(p.oid),
              'language', l.lanname,
              'security_definer', p.prosecdef,
              'volatility', case p.provolatile when 'i' then 'immutable' when 's' then 'stable' else 'volatile' end,
              'strict', p.proisstrict,
              'leakproof', p.proleakproof,
              'parallel', case p.proparallel when 's' then 'safe' when 'r' then 'restricted' else 'unsafe' end,
              'config', (select json_agg(x order by x) from unnest(p.proconfig) x),
              'body_hash', 'md5:' || pg_catalog.md5(case when p.prokind in ('f', 'p') and p.prosqlbody is not null
                                                         then pg_catalog.pg_get_functiondef(p.oid) else p.prosrc end)
            ) as props,
            json_build_object('definition', case when p.prokind in ('f', 'p') then pg_catalog.pg_get_functiondef(p.oid) end,
                              'signature', pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '(' ||
                                           pg_catalog.pg_get_function_identity_arguments(p.oid) || ')') as info
     from pg_catalog.pg_proc p join ns n on n.oid = p.pronamespace
     join pg_catalog.pg_language l on l.oid = p.prolang
     where not exists (select from extdep d where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and d.objid = p.oid)`,
    "o.name",
    "",
  ),

  triggers: agg(
    `select 'trigger' as kind, pg_catalog.quote_ident(t.tgname) || ' on ' || r.qname as name,
            (${RELKIND_WORD}) || ':' || r.qname as parent,
            json_build_object('definition', pg_catalog.pg_get_triggerdef(t.oid),
                              'enabled', case t.tgenabled when 'O' then 'origin' when 'D' then 'disabled' when 'R' then 'replica' when 'A' then 'always' end) as props,
            json_build_object('table', r.qname, 'trigger', pg_catalog.quote_ident(t.tgname)) as info
     from pg_catalog.pg_trigger t join rel r on r.oid = t.tgrelid
     where not t.tgisinternal and t.tgparentid = 0
       -- On platform tables (auth.users, storage.objects) only the project's triggers: those calling its own
       -- functions. The platform's (storage's updated_at and prefix triggers) call functions in its schemas.
       and (r.compared or (select p.pronamespace from pg_catalog.pg_proc p where p.oid = t.tgfoid) in (select oid from ns))`,
    "o.name",
    "",
  ),

  types: agg(
    `select case t.typtype when 'e' then 'enum' when 'd' then 'domain' when 'c' then 'composite_type' when 'r' then 'range_type' end as kind,
            pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname) as name,
            'schema:' || pg_catalog.quote_ident(n.nspname) as parent,
            case t.typtype
              when 'e' then json_build_object('labels', (select json_agg(e.enumlabel order by e.enumsortorder) from pg_catalog.pg_enum e where e.enumtypid = t.oid))
              when 'd' then json_build_object('base', pg_catalog.format_type(t.typbasetype, t.typtypmod), 'not_null', t.typnotnull, 'default', t.typdefault,
                                              'constraints', (select json_agg(pg_catalog.pg_get_constraintdef(co.oid) order by co.conname)
                                                              from pg_catalog.pg_constraint co where co.contypid = t.oid and co.contype <> 'n'))
              when 'c' then json_build_object('attributes', (select json_agg(pg_catalog.quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) order by a.attnum)
                                                             from pg_catalog.pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped))
              when 'r' then json_build_object('subtype', (select pg_catalog.format_type(rg.rngsubtype, null) from pg_catalog.pg_range rg where rg.rngtypid = t.oid))
            end as props
     from pg_catalog.pg_type t join ns n on n.oid = t.typnamespace
     where t.typtype in ('e', 'd', 'c', 'r')
       and (t.typtype <> 'c' or (select c.relkind from pg_catalog.pg_class c where c.oid = t.typrelid) = 'c')
       and not exists (select from extdep d where d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass and d.objid = t.oid)`,
    "o.name",
    "",
  ),

  policies: agg(
    `select 'policy' as kind, pg_catalog.quote_ident(pol.polname) || ' on ' || r.qname as name, 'table:' || r.qname as parent,
            json_build_object(
              'command', case pol.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE' when 'd' then 'DELETE' else 'ALL' end,
              'permissive', pol.polpermissive,
              'roles', (select json_agg(rn order by rn) from (select case when x = 0 then 'public' else pg_catalog.pg_get_userbyid(x) end as rn
                                                              from unnest(pol.polroles) x) roles),
              'using', pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
              'with_check', pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid)
            ) as props,
            json_build_object('table', r.qname, 'policy', pg_catalog.quote_ident(pol.polname)) as info
     from pg_catalog.pg_policy pol join rel r on r.oid = pol.polrelid`,
    "o.name",
    "",
  ),

  // Owners other than the role that runs migrations (alter table … owner to service_role…). Sequences that
  // belong to a column follow their table. The public schema's owner is the platform's business.
  owners: agg(
    `select 'owner' as kind, x.word || ' ' || x.object as name, x.parent, json_build_object('owner', pg_catalog.pg_get_userbyid(x.owner)) as props,
            json_build_object('word', x.word, 'object', x.object) as info
     from (
       select case r.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence' when 'f' then 'foreign table' else 'table' end as word,
              r.qname as object, (${RELKIND_WORD}) || ':' || r.qname as parent, r.relowner as owner
       from rel r where r.compared
         and not (r.relkind = 'S' and exists (select from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                              and d.objid = r.oid and d.deptype in ('a', 'i') and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass))
       union all
       select case p.prokind when 'p' then 'procedure' when 'a' then 'aggregate' else 'function' end,
              pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')',
              'function:' || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')',
              p.proowner
       from pg_catalog.pg_proc p join ns n on n.oid = p.pronamespace
       where not exists (select from extdep d where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and d.objid = p.oid)
       union all
       select 'schema', pg_catalog.quote_ident(n.nspname), 'schema:' || pg_catalog.quote_ident(n.nspname), n.nspowner from ns n where n.nspname <> 'public'
       union all
       select case t.typtype when 'd' then 'domain' else 'type' end, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname),
              (case t.typtype when 'e' then 'enum' when 'd' then 'domain' when 'c' then 'composite_type' else 'range_type' end) || ':' ||
                pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname),
              t.typowner
       from pg_catalog.pg_type t join ns n on n.oid = t.typnamespace
       where t.typtype in ('e', 'd', 'c', 'r')
         and (t.typtype <> 'c' or (select c.relkind from pg_catalog.pg_class c where c.oid = t.typrelid) = 'c')
         and not exists (select from extdep d where d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass and d.objid = t.oid)
     ) x, migrator m
     where x.owner <> m.oid`,
    "o.name",
    "",
  ),

  // comment on … is …: name is what follows "comment on".
  comments: agg(
    `select 'comment' as kind, x.target as name, x.parent, json_build_object('text', x.text) as props
     from (
       select 'schema ' || pg_catalog.quote_ident(n.nspname) as target, 'schema:' || pg_catalog.quote_ident(n.nspname) as parent,
              pg_catalog.obj_description(n.oid, 'pg_namespace') as text
       from ns n where n.nspname <> 'public'
       union all
       select case r.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence' when 'f' then 'foreign table' else 'table' end
                || ' ' || r.qname, (${RELKIND_WORD}) || ':' || r.qname, pg_catalog.obj_description(r.oid, 'pg_class')
       from rel r where r.compared
       union all
       select 'column ' || r.qname || '.' || pg_catalog.quote_ident(a.attname), 'column:' || r.qname || '.' || pg_catalog.quote_ident(a.attname),
              pg_catalog.col_description(r.oid, a.attnum)
       from rel r join pg_catalog.pg_attribute a on a.attrelid = r.oid
       where r.compared and r.relkind in ('r', 'p', 'f') and a.attnum > 0 and not a.attisdropped
       union all
       select case p.prokind when 'p' then 'procedure ' when 'a' then 'aggregate ' else 'function ' end
                || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')',
              'function:' || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')',
              pg_catalog.obj_description(p.oid, 'pg_proc')
       from pg_catalog.pg_proc p join ns n on n.oid = p.pronamespace
       where not exists (select from extdep d where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and d.objid = p.oid)
       union all
       select case t.typtype when 'd' then 'domain ' else 'type ' end || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname),
              (case t.typtype when 'e' then 'enum' when 'd' then 'domain' when 'c' then 'composite_type' else 'range_type' end) || ':' ||
                pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname),
              pg_catalog.obj_description(t.oid, 'pg_type')
       from pg_catalog.pg_type t join ns n on n.oid = t.typnamespace
       where t.typtype in ('e', 'd', 'c', 'r')
         and (t.typtype <> 'c' or (select c.relkind from pg_catalog.pg_class c where c.oid = t.typrelid) = 'c')
         and not exists (select from extdep d where d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass and d.objid = t.oid)
       union all
       select 'constraint ' || pg_catalog.quote_ident(co.conname) || ' on ' || r.qname, 'constraint:' || pg_catalog.quote_ident(co.conname) || ' on ' || r.qname,
              pg_catalog.obj_description(co.oid, 'pg_constraint')
       from pg_catalog.pg_constraint co join rel r on r.oid = co.conrelid where r.compared and co.contype <> 'n'
       union all
       select 'index ' || pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(ic.relname),
              'index:' || pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(ic.relname), pg_catalog.obj_description(ic.oid, 'pg_class')
       from pg_catalog.pg_index i join rel r on r.oid = i.indrelid join pg_catalog.pg_class ic on ic.oid = i.indexrelid
       where r.compared and not exists (select from pg_catalog.pg_constraint co where co.conindid = i.indexrelid and co.conrelid = r.oid)
       union all
       select 'trigger ' || pg_catalog.quote_ident(t.tgname) || ' on ' || r.qname, 'trigger:' || pg_catalog.quote_ident(t.tgname) || ' on ' || r.qname,
              pg_catalog.obj_description(t.oid, 'pg_trigger')
       from pg_catalog.pg_trigger t join rel r on r.oid = t.tgrelid
       where not t.tgisinternal and t.tgparentid = 0
         and (r.compared or (select p.pronamespace from pg_catalog.pg_proc p where p.oid = t.tgfoid) in (select oid from ns))
       union all
       select 'policy ' || pg_catalog.quote_ident(pol.polname) || ' on ' || r.qname, 'policy:' || pg_catalog.quote_ident(pol.polname) || ' on ' || r.qname,
              pg_catalog.obj_description(pol.oid, 'pg_policy')
       from pg_catalog.pg_policy pol join rel r on r.oid = pol.polrelid
     ) x where x.text is not null`,
    "o.name",
    "",
  ),

  // Tables in publications (the dashboard's "enable realtime" adds tables to supabase_realtime).
  publications: agg(
    `select 'publication' as kind, r.qname || ' in ' || pg_catalog.quote_ident(p.pubname) as name, 'table:' || r.qname as parent,
            json_build_object('row_filter', pg_catalog.pg_get_expr(pr.prqual, pr.prrelid),
                              'columns', (select json_agg(pg_catalog.quote_ident(a.attname) order by a.attnum) from pg_catalog.pg_attribute a
                                          where a.attrelid = pr.prrelid and a.attnum = any (pr.prattrs))) as props,
            json_build_object('table', r.qname, 'publication', pg_catalog.quote_ident(p.pubname)) as info
     from pg_catalog.pg_publication_rel pr join pg_catalog.pg_publication p on p.oid = pr.prpubid
     join rel r on r.oid = pr.prrelid where r.compared`,
    "o.name",
    "",
  ),

  // Privileges per (object, grantee). A NULL ACL means the built-in default, so it is expanded with
  // acldefault() and the two spellings of "default" compare equal. The owner's own (implicit)
  // privileges are left out: shadows may run as another role than the live database's owner.
  grants: `${PRELUDE},
acl as (
  select 'table' as objtype, r.qname as object, (${RELKIND_WORD}) || ':' || r.qname as parent, r.relowner as owner,
         pg_catalog.aclexplode(coalesce(r.relacl, pg_catalog.acldefault((case when r.relkind = 'S' then 's' else 'r' end)::"char", r.relowner))) as x,
         case when r.relkind = 'S' then 'sequence' else 'table' end as word, null::text as tbl, null::text as col
  from rel r where r.compared
  union all
  select 'column', r.qname || '.' || pg_catalog.quote_ident(a.attname), 'column:' || r.qname || '.' || pg_catalog.quote_ident(a.attname), r.relowner,
         pg_catalog.aclexplode(a.attacl), 'column', r.qname, pg_catalog.quote_ident(a.attname)
  from rel r join pg_catalog.pg_attribute a on a.attrelid = r.oid
  where r.compared and a.attacl is not null and a.attnum > 0 and not a.attisdropped
  union all
  select 'function', pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')',
         'function:' || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')',
         p.proowner, pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))),
         case p.prokind when 'p' then 'procedure' else 'function' end, null, null
  from pg_catalog.pg_proc p join ns n on n.oid = p.pronamespace
  where not exists (select from extdep d where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and d.objid = p.oid)
  union all
  select 'schema', pg_catalog.quote_ident(n.nspname), 'schema:' || pg_catalog.quote_ident(n.nspname), n.nspowner,
         pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))), 'schema', null, null
  from ns n
)
select coalesce(json_agg(o order by o.name), '[]')::text as objects from (
  select 'grant' as kind,
         acl.word || ' ' || acl.object || ' to ' || case when (acl.x).grantee = 0 then 'PUBLIC' else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid((acl.x).grantee)) end as name,
         acl.parent,
         json_build_object('privileges', json_agg(distinct (acl.x).privilege_type),
                           'grantable', coalesce(json_agg(distinct (acl.x).privilege_type) filter (where (acl.x).is_grantable), '[]'::json)) as props,
         json_build_object('on', acl.word, 'object', acl.object, 'table', acl.tbl, 'column', acl.col,
                           'grantee', case when (acl.x).grantee = 0 then 'PUBLIC' else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid((acl.x).grantee)) end) as info
  from acl
  where (acl.x).grantee <> acl.owner
  group by acl.word, acl.object, acl.parent, acl.tbl, acl.col, (acl.x).grantee
) o`,
};

export const CATALOG_QUERIES: Readonly<Record<string, string>> = QUERIES;

/** Reads the normalized snapshot of user objects. The same SQL for every connection. */
export async function readCatalog(conn: CatalogConnection, filter: SchemaFilter): Promise<CatalogSnapshot> {
  const param = JSON.stringify({ include: filter.include ?? null, exclude: filter.exclude, attached: filter.attached ?? [], platform: DEFAULT_EXCLUDED_SCHEMAS });
  return await conn.transaction(async (query) => {
    await query(`select pg_catalog.set_config('search_path', '', true)`);
    const [meta] = await query(`select pg_catalog.current_setting('server_version_num') as v`);
    const objects: CatalogObject[] = [];
    for (const sql of Object.values(QUERIES)) {
      const [row] = await query(sql, [param]);
      objects.push(...(JSON.parse(String(row.objects)) as CatalogObject[]));
    }
    return { server_version_num: Number(meta.v), objects };
  });
}

const PLATFORM_SQL = `
with me as (select oid from pg_catalog.pg_roles where rolname = current_user),
d as (
  select d.defaclrole, d.defaclnamespace, d.defaclobjtype, d.defaclacl, n.nspname
  from pg_catalog.pg_default_acl d left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace
  where d.defaclrole = (select oid from me)
),
cur as (
  select d.nspname, d.defaclobjtype as objtype, d.defaclnamespace = 0 as global, d.defaclrole as role, (x).grantee, (x).privilege_type, (x).is_grantable
  from (select d.*, pg_catalog.aclexplode(d.defaclacl) as x from d) d
),
builtin as (
  select d.defaclobjtype as objtype, d.defaclrole as role, (x).grantee, (x).privilege_type, (x).is_grantable
  from (select d.*, pg_catalog.aclexplode(pg_catalog.acldefault((case d.defaclobjtype when 'S' then 's' else d.defaclobjtype end)::"char", d.defaclrole)) as x
        from d where d.defaclnamespace = 0) d
),
changes as (
  select c.nspname as schema, c.objtype, c.grantee, c.privilege_type, c.is_grantable, false as revoke from cur c
  where c.grantee <> c.role and not (c.global and exists (select from builtin b where b.objtype = c.objtype and b.grantee = c.grantee
                                                          and b.privilege_type = c.privilege_type and b.is_grantable = c.is_grantable))
  union all
  select null, b.objtype, b.grantee, b.privilege_type, false, true from builtin b
  where b.grantee <> b.role and not exists (select from cur c where c.global and c.objtype = b.objtype and c.grantee = b.grantee
                                            and c.privilege_type = b.privilege_type)
)
select json_build_object(
  'current_user', current_user,
  'search_path', pg_catalog.current_setting('search_path'),
  'default_privileges', coalesce((select json_agg(json_build_object(
      'schema', c.schema, 'objtype', c.objtype, 'privilege', c.privilege_type, 'grantable', c.is_grantable, 'revoke', c.revoke,
      'grantee', case when c.grantee = 0 then 'PUBLIC' else pg_catalog.pg_get_userbyid(c.grantee) end)
      order by c.revoke desc, c.schema, c.objtype, c.grantee, c.privilege_type) from changes c), '[]'::json),
  'roles', coalesce((select json_agg(rolname order by rolname) from pg_catalog.pg_roles where rolname !~ '^pg_'), '[]'::json),
  'extensions', coalesce((select json_agg(json_build_object('name', e.extname, 'schema', n.nspname, 'version', e.extversion) order by e.extname)
                          from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace), '[]'::json),
  'schemas', coalesce((select json_agg(nspname order by nspname) from pg_catalog.pg_namespace where nspname !~ '^pg_'), '[]'::json),
  'has_history', pg_catalog.to_regclass('supabase_migrations.schema_migrations') is not null,
  -- A Supabase platform database: supabase_admin owns objects in it (auth, storage, extension helpers).
  'supabase', exists (select from pg_catalog.pg_roles sa where sa.rolname = 'supabase_admin' and (
    exists (select from pg_catalog.pg_namespace where nspowner = sa.oid) or
    exists (select from pg_catalog.pg_class where relowner = sa.oid) or
    exists (select from pg_catalog.pg_proc where proowner = sa.oid)))
)::text as settings`;

/** What the shadow copies from the live database before replaying migrations. */
export interface PlatformSettings {
  current_user: string;
  search_path: string;
  /** Default privileges of the live role that runs migrations, as statements to replay. */
  default_privileges: Array<{ schema: string | null; objtype: string; grantee: string; privilege: string; grantable: boolean; revoke: boolean }>;
  /** Roles of the live cluster (pg_* left out). */
  roles: string[];
  /** Schemas of the live database (pg_* left out). Absent from an older function's GET /schema. */
  schemas?: string[];
  /** Extensions installed live, with their schema. */
  extensions: Array<{ name: string; schema: string; version?: string }>;
  /** The live database is a Supabase platform database: the stand-ins add the platform's baseline grants. */
  supabase: boolean;
  /** Versions in supabase_migrations.schema_migrations, or null when there is no such table. */
  applied_versions: string[] | null;
  /** What the live database has in the platform schemas (db/platform_skeleton.ts). Absent from an older function's GET /schema. */
  skeleton?: PlatformSkeleton;
}

/** Platform facts of the live database that the shadow copies before replay (see db/shadow.ts). */
export async function readPlatformSettings(conn: CatalogConnection): Promise<PlatformSettings> {
  return await conn.transaction(async (query) => {
    const [row] = await query(PLATFORM_SQL);
    const s = JSON.parse(String(row.settings)) as Omit<PlatformSettings, "applied_versions"> & { has_history: boolean };
    let applied: string[] | null = null;
    if (s.has_history) {
      const rows = await query("select version from supabase_migrations.schema_migrations order by version");
      applied = rows.map((r) => String(r.version));
    }
    const { has_history: _, ...rest } = s;
    // Last: it empties the transaction's search_path, which PLATFORM_SQL reported above.
    const skeleton = await readPlatformSkeleton(query);
    return { ...rest, applied_versions: applied, skeleton };
  });
}

/** The live database as the shadow's comparisons need it: its platform facts and its catalog. */
export interface LiveCatalog {
  settings: PlatformSettings;
  snapshot: CatalogSnapshot;
}

/**
 * Reads the live catalog once for one report, however many comparisons use it: each caller
 * gets its own copy, as comparing may rewrite a view's spelling in place (db/view_spelling.ts).
 *
 * @example const live = liveCatalogOnce(sql, schemaFilter(undefined, undefined)); (await live()).snapshot.objects.length
 */
export function liveCatalogOnce(sql: PostgresLike, filter: SchemaFilter): () => Promise<LiveCatalog> {
  let read: Promise<LiveCatalog> | undefined;
  return async () => {
    read ??= (async () => {
      const conn = postgresCatalog(sql);
      return { settings: await readPlatformSettings(conn), snapshot: await readCatalog(conn, filter) };
    })();
    return structuredClone(await read);
  };
}
