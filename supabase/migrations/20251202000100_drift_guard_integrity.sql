-- drift-guard integrity: the audit log cannot be forged, and the audit-log read
-- policy accepts exactly the roles the function accepts.
--
-- Idempotent: `drift-guard install` and the migration `drift-guard init` writes
-- may both run this file on the same database.
--
-- 1. Only the guarded functions (drift_guard.apply_repair / undo_repair) write
--    drift_guard.audit_log. They are SECURITY INVOKER, so they run with the
--    rights of the role that calls them: the database owner (`postgres`, as the
--    CLI and the function connect). service_role, the Data API's role, keeps
--    SELECT but loses INSERT and UPDATE: before, a holder of the secret key could
--    insert a row that `drift-guard audit` showed as "alice via cli", or set
--    undone_by to block a real undo.
-- 2. A trigger also guards inserts and undone_by:
--    created_at is the inserting transaction's now(); a new row is never marked
--    undone; an undo row points at a repair; undone_by may be set only once, to
--    an undo row whose `undoes` is this row.
--
-- SQLSTATE DGA01: the audit log is append-only (as in 20251101000000).

-- ---------------------------------------------------------------------------
-- 1. No direct writes for the API roles
-- ---------------------------------------------------------------------------

do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    revoke insert, update, delete, truncate on drift_guard.audit_log from service_role;
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    revoke insert, update, delete, truncate on drift_guard.audit_log from authenticated;
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on drift_guard.audit_log from anon;
  end if;
end;
$$;
revoke insert, update, delete, truncate on drift_guard.audit_log from public;

-- ---------------------------------------------------------------------------
-- 2. The trigger: honest timestamps and real undo links
-- ---------------------------------------------------------------------------

create or replace function drift_guard.audit_log_guard_insert()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.created_at is distinct from pg_catalog.now() then
    raise exception using errcode = 'DGA01',
      message = 'drift_guard.audit_log: created_at is the time of the writing transaction; it cannot be chosen';
  end if;
  if new.undone_by is not null then
    raise exception using errcode = 'DGA01',
      message = 'drift_guard.audit_log: a new entry cannot already be undone; undo_repair sets undone_by';
  end if;
  if new.kind = 'undo' and not exists (
    select 1 from drift_guard.audit_log a where a.id = new.undoes and a.kind = 'repair' and a.undone_by is null
  ) then
    raise exception using errcode = 'DGA01',
      message = 'drift_guard.audit_log: an undo entry must point at a repair that is not yet undone';
  end if;
  return new;
end;
$$;

drop trigger if exists audit_log_guard_insert on drift_guard.audit_log;
create trigger audit_log_guard_insert
  before insert on drift_guard.audit_log
  for each row execute function drift_guard.audit_log_guard_insert();

-- drift_guard.audit_log_append_only (20251101000000) allows one update: setting
-- undone_by once, to the undo entry that undoes this row.
revoke all on function drift_guard.audit_log_guard_insert() from public;
revoke all on function drift_guard.audit_log_append_only() from public;
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function drift_guard.audit_log_guard_insert() from anon;
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    revoke all on function drift_guard.audit_log_guard_insert() from authenticated;
  end if;
end;
$$;

-- ---------------------------------------------------------------------------
-- 3. The audit-log read policy accepts the function's roles, no more
--    (functions/migration-drift/auth.ts SCOPES: read, deploy, repair).
-- ---------------------------------------------------------------------------

do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    drop policy if exists audit_log_select_drift_guard_role on drift_guard.audit_log;
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
-- 4. Revoking a token names it explicitly: by id (uuid or public id) or by label.
--    A label may equal another token's id, so "label or id" is a guess; the
--    old one-argument form now refuses when the text matches more than one token.
-- ---------------------------------------------------------------------------

create or replace function drift_guard.revoke_token_by(p_field text, p_value text)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_token drift_guard.tokens%rowtype;
  v_already boolean;
begin
  if p_field is null or p_field not in ('id', 'label') then
    raise exception using errcode = 'DGI01', message = 'revoke a token by id or by label';
  end if;
  select * into v_token
  from drift_guard.tokens t
  where (p_field = 'label' and t.label = p_value)
     or (p_field = 'id' and (t.id::text = pg_catalog.lower(p_value) or t.public_id = pg_catalog.lower(p_value)))
  for update;
  if not found then
    return null;
  end if;
  v_already := v_token.revoked_at is not null;
  if not v_already then
    update drift_guard.tokens t set revoked_at = pg_catalog.now() where t.id = v_token.id returning * into v_token;
  end if;
  return pg_catalog.jsonb_build_object(
    'id', v_token.id, 'label', v_token.label, 'scope', v_token.scope,
    'public_id', v_token.public_id, 'revoked_at', v_token.revoked_at, 'already_revoked', v_already
  );
end;
$$;

-- drift_guard.revoke_token (20251101000000) resolves a label or id to exactly one token, then calls revoke_token_by.
revoke all on function drift_guard.revoke_token_by(text, text) from public;
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function drift_guard.revoke_token_by(text, text) from anon;
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    revoke all on function drift_guard.revoke_token_by(text, text) from authenticated;
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    grant execute on function drift_guard.revoke_token_by(text, text) to service_role;
  end if;
end;
$$;

insert into drift_guard.schema_version (version) values ('20251202000100') on conflict (version) do nothing;
