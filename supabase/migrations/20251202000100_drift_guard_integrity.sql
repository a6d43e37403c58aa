-- drift-guard integrity: the audit log cannot be forged, and tokens are revoked by what
-- the caller names.
--
-- Idempotent: `drift-guard install` and the migration `drift-guard init` writes
-- may both run this file on the same database. Who may write the audit log is in
-- 20251204000900_drift_guard_privileges.sql (no API role may).
--
-- A trigger guards inserts and undone_by, even for the owner: created_at is the
-- inserting transaction's now(); a new row is never marked undone; an undo row points
-- at a repair; undone_by may be set only once, to an undo row whose `undoes` is this row.
--
-- SQLSTATE DGA01: the audit log is append-only (as in 20251101000000).

-- ---------------------------------------------------------------------------
-- 1. The trigger: honest timestamps and real undo links
-- ---------------------------------------------------------------------------

-- Marks this transaction as drift_guard's own install, so that the DDL ledger does not record
-- its GRANTs and REVOKEs (only for the schema's owner; transaction-local, gone at commit).
select pg_catalog.set_config('drift_guard.installing', 'on', true);

create or replace function drift_guard.audit_log_guard_insert()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
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

-- ---------------------------------------------------------------------------
-- 2. Revoking a token names it explicitly: by id (uuid or public id) or by label.
--    A label may equal another token's id, so "label or id" is a guess; the
--    old one-argument form now refuses when the text matches more than one token.
-- ---------------------------------------------------------------------------

create or replace function drift_guard.revoke_token_by(p_field pg_catalog.text, p_value pg_catalog.text)
returns pg_catalog.jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
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
     or (p_field = 'id' and (t.id::pg_catalog.text = pg_catalog.lower(p_value) or t.public_id = pg_catalog.lower(p_value)))
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

insert into drift_guard.schema_version (version) values ('20251202000100') on conflict (version) do nothing;
