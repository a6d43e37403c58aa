-- drift-guard's audit log: every repair, undo and acknowledgement, append-only. A trigger
-- guards inserts and undone_by, even for the owner: created_at is the inserting transaction's
-- now(); a new row is never marked undone; an undo row points at a repair; undone_by may be
-- set only once, to an undo row whose `undoes` is this row; an acknowledgement cannot be undone.
--
-- SQLSTATE DGA01: the audit log is append-only.
--
-- Idempotent, like every file of the schema (see 20251101000000_drift_guard.sql, which
-- lists the parts). Runs after 20251101000000, which creates the schema.

-- Marks this transaction as drift_guard's own install, so that the DDL ledger does not record
-- its GRANTs and REVOKEs (only for the schema's owner; transaction-local, gone at commit).
select pg_catalog.set_config('drift_guard.installing', 'on', true);

create table if not exists drift_guard.audit_log (
  id pg_catalog.uuid primary key default gen_random_uuid(),
  created_at pg_catalog.timestamptz not null default now(),
  kind pg_catalog.text not null check (kind in ('repair', 'undo', 'ack')),
  actor pg_catalog.jsonb not null,
  reason pg_catalog.text not null check (length(btrim(reason)) > 0),
  plan pg_catalog.jsonb not null,
  digest_before pg_catalog.text not null,
  digest_after pg_catalog.text not null,
  -- [{ "version": "…", "row": { "version", "name", "statements" } | null }, …], one per touched version
  rows_before pg_catalog.jsonb not null,
  rows_after pg_catalog.jsonb not null,
  undoes pg_catalog.uuid null references drift_guard.audit_log (id),
  undone_by pg_catalog.uuid null references drift_guard.audit_log (id),
  constraint audit_log_undo_has_target check ((kind = 'undo') = (undoes is not null))
);
create index if not exists audit_log_created_at_idx on drift_guard.audit_log (created_at desc);
create index if not exists audit_log_undoes_idx on drift_guard.audit_log (undoes);
create index if not exists audit_log_undone_by_idx on drift_guard.audit_log (undone_by);
comment on table drift_guard.audit_log is 'Every repair and undo of supabase_migrations.schema_migrations, and every acknowledgement of the DDL ledger''s entries; append-only.';

alter table drift_guard.audit_log enable row level security;

-- Acknowledgements of the DDL ledger's entries go into the audit log like repairs (an older
-- install made the check without 'ack').
do $$
begin
  alter table drift_guard.audit_log drop constraint if exists audit_log_kind_check;
  alter table drift_guard.audit_log add constraint audit_log_kind_check check (kind in ('repair', 'undo', 'ack'));
end;
$$;

-- ---------------------------------------------------------------------------
-- The audit log is append-only: the only update allowed is setting undone_by once.
-- ---------------------------------------------------------------------------

create or replace function drift_guard.audit_log_append_only()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
  if tg_op = 'UPDATE' then
    if old.undone_by is null
       and new.undone_by is not null
       and (pg_catalog.to_jsonb(new) - 'undone_by') = (pg_catalog.to_jsonb(old) - 'undone_by')
       and exists (select 1 from drift_guard.audit_log u where u.id = new.undone_by and u.kind = 'undo' and u.undoes = old.id) then
      return new;
    end if;
  end if;
  raise exception using errcode = 'DGA01', message = 'drift_guard.audit_log is append-only: use drift-guard undo to reverse a repair';
end;
$$;

drop trigger if exists audit_log_append_only on drift_guard.audit_log;
create trigger audit_log_append_only
  before update or delete on drift_guard.audit_log
  for each row execute function drift_guard.audit_log_append_only();
drop trigger if exists audit_log_no_truncate on drift_guard.audit_log;
create trigger audit_log_no_truncate
  before truncate on drift_guard.audit_log
  for each statement execute function drift_guard.audit_log_append_only();

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

-- An acknowledgement changes no history, so there is nothing to undo: refuse.
create or replace function drift_guard.audit_log_ack_is_final()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
  if old.kind = 'ack' and new.undone_by is distinct from old.undone_by then
    raise exception using errcode = 'DGI01',
      message = pg_catalog.format('audit entry %s is an acknowledgement of ledger entries; it changed no history, so there is nothing to undo', old.id);
  end if;
  return new;
end;
$$;

drop trigger if exists audit_log_ack_is_final on drift_guard.audit_log;
create trigger audit_log_ack_is_final
  before update on drift_guard.audit_log
  for each row execute function drift_guard.audit_log_ack_is_final();

-- Every GRANT, REVOKE and POLICY is in 20251204000900_drift_guard_privileges.sql, which runs last.

insert into drift_guard.schema_version (version) values ('20251101000100') on conflict (version) do nothing;
