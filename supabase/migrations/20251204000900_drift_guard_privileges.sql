-- drift-guard's privileges: every GRANT, REVOKE and POLICY of the drift_guard schema, each
-- stated once, here. This file sorts (and `drift-guard install` runs it) after every other
-- schema file, and it starts from nothing: it takes away whatever an earlier release or a
-- partial re-run left, then grants exactly the list below. docs/security-model.md shows
-- the same list, and tests/security_model.test.ts holds the catalog to it.
--
-- The database owner (the installing role, `postgres` on Supabase) owns every table and
-- function and needs no grant. The function and the CLI connect as that role.
--
--   PUBLIC, anon   nothing: not the schema, not a table, not a function
--   authenticated  USAGE on the schema; SELECT on the audit log's columns but `actor`
--                  (who and from where stays with repair scope), rows filtered by the policy
--                  audit_log_select_drift_guard_role: app_metadata.drift_guard_role in
--                  read, deploy, repair (the scopes of functions/migration-drift/auth.ts)
--   service_role   USAGE on the schema; SELECT on every table; EXECUTE on the functions that
--                  only read, and on store_manifest (SECURITY DEFINER: an upload, what deploy
--                  scope does) / current_manifest. It writes no table directly: no manifest
--                  but through store_manifest, no ledger entry, acknowledgement, alert mark,
--                  token or audit row.
--
-- Guarded by role existence, so that the file also installs on a plain Postgres.

-- ---------------------------------------------------------------------------
-- 1. Start from nothing
-- ---------------------------------------------------------------------------

-- Marks this transaction as drift_guard's own install, so that the DDL ledger does not record
-- its GRANTs and REVOKEs (only for the schema's owner; transaction-local, gone at commit).
select pg_catalog.set_config('drift_guard.installing', 'on', true);

revoke all on schema drift_guard from public;
revoke all on all tables in schema drift_guard from public;
revoke all on all sequences in schema drift_guard from public;
revoke all on all functions in schema drift_guard from public;
alter default privileges in schema drift_guard revoke execute on functions from public;

do $$
declare
  v_role pg_catalog.text;
  v_policy pg_catalog.record;
begin
  foreach v_role in array array['anon', 'authenticated', 'service_role'] loop
    if exists (select 1 from pg_catalog.pg_roles r where r.rolname = v_role) then
      execute pg_catalog.format('revoke all on schema drift_guard from %I', v_role);
      execute pg_catalog.format('revoke all on all tables in schema drift_guard from %I', v_role);
      execute pg_catalog.format('revoke all on all sequences in schema drift_guard from %I', v_role);
      execute pg_catalog.format('revoke all on all functions in schema drift_guard from %I', v_role);
    end if;
  end loop;
  -- Every policy, whatever an earlier release named it: the one below is the only one.
  for v_policy in
    select p.polname, c.relname from pg_catalog.pg_policy p
    join pg_catalog.pg_class c on c.oid = p.polrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'drift_guard'
  loop
    execute pg_catalog.format('drop policy %I on drift_guard.%I', v_policy.polname, v_policy.relname);
  end loop;
end;
$$;

-- ---------------------------------------------------------------------------
-- 2. authenticated: the audit log, filtered, without who and from where
-- ---------------------------------------------------------------------------

do $$
begin
  if exists (select 1 from pg_catalog.pg_roles r where r.rolname = 'authenticated') then
    grant usage on schema drift_guard to authenticated;
    grant select (id, created_at, kind, reason, plan, digest_before, digest_after, rows_before, rows_after, undoes, undone_by)
      on drift_guard.audit_log to authenticated;
    if pg_catalog.to_regprocedure('auth.jwt()') is not null then
      create policy audit_log_select_drift_guard_role on drift_guard.audit_log
        as permissive
        for select
        to authenticated
        using (((select auth.jwt()) -> 'app_metadata' ->> 'drift_guard_role') in ('read', 'deploy', 'repair'));
    end if;
  end if;
end;
$$;

-- ---------------------------------------------------------------------------
-- 3. service_role: reads everything, uploads manifests through store_manifest, writes no table
-- ---------------------------------------------------------------------------

do $$
begin
  if exists (select 1 from pg_catalog.pg_roles r where r.rolname = 'service_role') then
    grant usage on schema drift_guard to service_role;
    grant select on drift_guard.schema_version, drift_guard.audit_log, drift_guard.tokens, drift_guard.manifests,
      drift_guard.ledger_settings, drift_guard.ddl_ledger, drift_guard.history_writes, drift_guard.ledger_health
      to service_role;
    grant execute on function
      drift_guard.digest_field(pg_catalog.text),
      drift_guard.history_digest(),
      drift_guard.repair_lock_key(),
      drift_guard.find_token(pg_catalog.text),
      drift_guard.store_manifest(pg_catalog.jsonb, pg_catalog.jsonb),
      drift_guard.current_manifest(),
      drift_guard.ledger_status(),
      drift_guard.ledger_jwt_claims(),
      drift_guard.ledger_identity_schema(pg_catalog.text)
      to service_role;
  end if;
end;
$$;

insert into drift_guard.schema_version (version) values ('20251204000900') on conflict (version) do nothing;
