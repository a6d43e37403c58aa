-- pgTAP: the drift_guard schema's security rules, as `supabase test db` runs them
-- (pg_prove, one transaction, rolled back). Run here by tests/pgtap.test.ts.
begin;
create extension if not exists pgtap;

select plan(15);

-- RLS on every table.
select is(
  array(select c.relname::text from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'drift_guard' and c.relkind in ('r', 'p') and not c.relrowsecurity order by 1),
  '{}'::text[],
  'every drift_guard table has row level security on'
);
select cmp_ok(
  (select count(*)::int from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'drift_guard' and c.relkind = 'r'),
  '>=', 4, 'the tables are there to check'
);

-- No EXECUTE for PUBLIC, anon or authenticated.
select is(
  array(select p.oid::regprocedure::text from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'drift_guard'
          and exists (select 1 from pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                      where a.grantee = 0 and a.privilege_type = 'EXECUTE')
        order by 1),
  '{}'::text[],
  'PUBLIC cannot execute any drift_guard function'
);
select is(
  array(select r.rolname || ': ' || p.oid::regprocedure::text
        from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        cross join pg_catalog.pg_roles r
        where n.nspname = 'drift_guard' and r.rolname in ('anon', 'authenticated')
          and pg_catalog.has_function_privilege(r.oid, p.oid, 'EXECUTE')
        order by 1),
  '{}'::text[],
  'anon and authenticated cannot execute any drift_guard function'
);
-- SECURITY DEFINER only where a trigger must write the ledger on behalf of any role that runs
-- DDL (Postgres calls those only as triggers, so no caller can invoke them with other
-- arguments), and store_manifest, service_role's only write, which checks what it stores.
select is(
  array(select p.oid::regprocedure::text from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'drift_guard' and p.prosecdef
          and p.prorettype not in ('pg_catalog.trigger'::pg_catalog.regtype, 'pg_catalog.event_trigger'::pg_catalog.regtype)
        order by 1),
  array['drift_guard.store_manifest(jsonb,jsonb)']::text[],
  'no drift_guard function is SECURITY DEFINER, except trigger functions and store_manifest'
);
select is(
  array(select p.oid::regprocedure::text from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'drift_guard' and p.prosecdef
          and p.prorettype in ('pg_catalog.trigger'::pg_catalog.regtype, 'pg_catalog.event_trigger'::pg_catalog.regtype)
        order by 1),
  array['drift_guard.ledger_record_ddl()', 'drift_guard.ledger_record_history_write()']::text[],
  'the SECURITY DEFINER trigger functions are exactly the ledger''s two recorders'
);

-- Every function, trigger functions included, pins search_path to the catalog with pg_temp
-- explicitly last (an empty path searches pg_temp FIRST for relations and types), and sets
-- nothing else but the ledger trigger's plan_cache_mode.
select is(
  array(select p.oid::regprocedure::text || ' ' || coalesce(p.proconfig::text, '(none)')
        from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'drift_guard'
          and p.proconfig is distinct from
              case when p.oid = 'drift_guard.ledger_record_ddl()'::pg_catalog.regprocedure
                   then array['search_path=pg_catalog, pg_temp', 'plan_cache_mode=force_generic_plan']::pg_catalog.text[]
                   else array['search_path=pg_catalog, pg_temp']::pg_catalog.text[] end
        order by 1),
  '{}'::text[],
  'every drift_guard function pins search_path = pg_catalog, pg_temp and sets nothing else'
);
select cmp_ok(
  (select count(*)::int from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'drift_guard'),
  '>=', 30, 'the functions are there to check'
);

-- No direct writes to the audit log by the API roles.
select is(
  array(select r.rolname || ' ' || v.privilege
        from pg_catalog.pg_roles r cross join (values ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) v(privilege)
        where r.rolname in ('service_role', 'authenticated', 'anon')
          and pg_catalog.has_table_privilege(r.oid, 'drift_guard.audit_log', v.privilege)
        order by 1),
  '{}'::text[],
  'service_role, authenticated and anon cannot write drift_guard.audit_log directly'
);
select is(
  array(select g.grantee::text || ' ' || g.privilege_type from information_schema.role_table_grants g
        where g.table_schema = 'drift_guard' and g.grantee in ('PUBLIC', 'anon', 'authenticated') and g.privilege_type <> 'SELECT'
        order by 1),
  '{}'::text[],
  'no write grant on any drift_guard table to PUBLIC, anon or authenticated'
);

-- service_role writes no drift_guard table directly: a manifest goes through store_manifest
-- (docs/security-model.md).
select is(
  array(select r.rolname || ' ' || v.privilege || ' ' || c.relname
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        cross join pg_catalog.pg_roles r
        cross join (values ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) v(privilege)
        where n.nspname = 'drift_guard' and c.relkind = 'r' and r.rolname in ('service_role', 'authenticated', 'anon')
          and (pg_catalog.has_table_privilege(r.oid, c.oid, v.privilege)
               or (v.privilege in ('INSERT', 'UPDATE') and pg_catalog.has_any_column_privilege(r.oid, c.oid, v.privilege)))
        order by 1),
  '{}'::text[],
  'the API roles write no drift_guard table directly'
);

-- The trigger holds even for the owner.
select throws_ok(
  $$insert into drift_guard.audit_log (kind, actor, reason, plan, digest_before, digest_after, rows_before, rows_after, created_at)
    values ('repair', '{"via":"cli","user":"alice"}', 'approved', '{}', 'x', 'y', '[]', '[]', '2020-01-01')$$,
  'DGA01', null, 'created_at cannot be back-dated'
);
select throws_ok(
  $$insert into drift_guard.audit_log (kind, actor, reason, plan, digest_before, digest_after, rows_before, rows_after, undone_by)
    values ('repair', '{}', 'r', '{}', 'x', 'y', '[]', '[]', gen_random_uuid())$$,
  'DGA01', null, 'a new entry cannot arrive already undone'
);

-- The audit-log read policy accepts exactly the function's roles.
select is(
  (select pg_catalog.array_agg(m[1] order by m[1])
   from pg_catalog.pg_policies p, pg_catalog.regexp_matches(p.qual, '''(read|deploy|repair|admin|[a-z_]+)''::text', 'g') m
   where p.schemaname = 'drift_guard' and p.policyname = 'audit_log_select_drift_guard_role'
     and m[1] not in ('app_metadata', 'drift_guard_role')),
  array['deploy', 'read', 'repair']::text[],
  'the audit-log policy accepts read, deploy and repair, as the function does'
);
select policy_roles_are('drift_guard', 'audit_log', 'audit_log_select_drift_guard_role', array['authenticated'], 'only authenticated is subject to the read policy');

select * from finish();
rollback;
