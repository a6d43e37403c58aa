-- drift-guard's own schema, and what every part of it uses: the schema itself, the record of
-- which files are installed, the history digest, the repair lock and the history table. The
-- parts, one file each, in the order install runs them:
--   20251101000100_drift_guard_audit_log.sql   the audit log, append-only and unforgeable
--   20251101000200_drift_guard_repair.sql      apply_repair and undo_repair: the one way the history is written
--   20251101000300_drift_guard_tokens.sql      the function's API tokens (hashes only)
--   20251101000400_drift_guard_manifests.sql   uploaded manifests
--   20251202000400_drift_guard_ledger.sql      the DDL ledger
--   20251204000900_drift_guard_privileges.sql  who may do what: every GRANT, REVOKE and POLICY, last
--
-- Installed by `drift-guard install` (db/install.ts), which runs each file in one
-- transaction under an advisory lock and records its version and the sha256 of its
-- text in drift_guard.schema_version; a later release whose files changed runs them
-- again. The files are also safe to run by hand or with `supabase db push`: every
-- statement is idempotent and each file records itself.
--
-- Nothing here lives in `public`, so none of it is exposed through the Data API.
-- Every function is SECURITY INVOKER with `search_path = pg_catalog, pg_temp` (pg_temp
-- last, so that no temporary object shadows a catalog name) and fully qualified bodies.
-- Who may do what is in one file, 20251204000900_drift_guard_privileges.sql, which runs last.
--
-- SQLSTATEs raised (the CLI and the function map them to the contract's codes):
--   DGI01  bad input (blank reason, malformed change list, duplicate label, already undone)
--   DGL01  another session holds the repair lock (the message names it)
--   DGM01  the history changed since the plan (digest mismatch, or a row not as planned)
--   DGN01  unknown audit id
--   DGA01  the audit log is append-only
--   DGX01  internal consistency check failed (nothing was changed)

-- Marks this transaction as drift_guard's own install, so that the DDL ledger does not record
-- its GRANTs and REVOKEs (only for the schema's owner; transaction-local, gone at commit).
select pg_catalog.set_config('drift_guard.installing', 'on', true);

create schema if not exists drift_guard;
comment on schema drift_guard is 'drift-guard: migration-history audit log, tokens and manifests. Not exposed through the Data API.';

create table if not exists drift_guard.schema_version (
  version pg_catalog.text primary key,
  installed_at pg_catalog.timestamptz not null default now(),
  checksum pg_catalog.text null -- sha256 of the file's text as drift-guard install ran it; null where another tool ran it
);
alter table drift_guard.schema_version add column if not exists checksum pg_catalog.text null;

alter table drift_guard.schema_version enable row level security;

-- ---------------------------------------------------------------------------
-- The history digest (must match historyDigest() in shared/checksum.ts)
-- ---------------------------------------------------------------------------

-- '-' for null, else <octet length in UTF-8>:<text>
create or replace function drift_guard.digest_field(p_value pg_catalog.text)
returns pg_catalog.text
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
  select case
    when p_value is null then '-'
    else pg_catalog.octet_length(pg_catalog.convert_to(p_value, 'UTF8'))::pg_catalog.text || ':' || p_value
  end
$$;

create or replace function drift_guard.history_digest()
returns pg_catalog.text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
  v_table pg_catalog.regclass := pg_catalog.to_regclass('supabase_migrations.schema_migrations');
  v_has_name boolean;
  v_has_statements boolean;
  v_encoded pg_catalog.text;
begin
  if v_table is null then
    return 'sha256:' || pg_catalog.encode(pg_catalog.sha256(''::pg_catalog.bytea), 'hex');
  end if;
  -- Old CLI versions created the table with the version column only: missing columns read as null.
  select
    pg_catalog.bool_or(a.attname = 'name'),
    pg_catalog.bool_or(a.attname = 'statements')
  into v_has_name, v_has_statements
  from pg_catalog.pg_attribute a
  where a.attrelid = v_table and a.attnum > 0 and not a.attisdropped;

  execute pg_catalog.format(
    $q$
      select coalesce(pg_catalog.string_agg(
        drift_guard.digest_field(h.version) || '|' || drift_guard.digest_field(h.name) || '|' ||
        case
          when h.statements is null then '-'
          else pg_catalog.cardinality(h.statements)::pg_catalog.text || '[' || coalesce((
            select pg_catalog.string_agg(drift_guard.digest_field(s.elem), '' order by s.ord)
            from pg_catalog.unnest(h.statements) with ordinality as s(elem, ord)
          ), '') || ']'
        end,
        E'\n' order by h.version collate pg_catalog."C"), '')
      from (
        select m.version::pg_catalog.text as version, %s as name, %s as statements
        from supabase_migrations.schema_migrations m
      ) h
    $q$,
    case when coalesce(v_has_name, false) then 'm.name::text' else 'null::text' end,
    case when coalesce(v_has_statements, false) then 'm.statements::text[]' else 'null::text[]' end
  ) into v_encoded;

  return 'sha256:' || pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(v_encoded, 'UTF8')), 'hex');
end;
$$;

-- ---------------------------------------------------------------------------
-- Internals shared by the repairs, the ledger's acknowledgements and install
-- ---------------------------------------------------------------------------

-- The advisory lock every repair and undo takes ('dGrepair' as a bigint).
create or replace function drift_guard.repair_lock_key()
returns bigint
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$ select 7225869907141945714::bigint $$;

-- Takes the repair lock for the rest of the transaction, or raises DGL01 naming the holder.
create or replace function drift_guard.acquire_repair_lock()
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_key bigint := drift_guard.repair_lock_key();
  v_holder pg_catalog.record;
begin
  if pg_catalog.pg_try_advisory_xact_lock(v_key) then
    return;
  end if;
  select a.pid, a.application_name, a.usename, a.xact_start, a.backend_start, a.state
  into v_holder
  from pg_catalog.pg_locks l
  left join pg_catalog.pg_stat_activity a on a.pid = l.pid
  where l.locktype = 'advisory'
    and l.granted
    and l.database = (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())
    and l.classid = (v_key >> 32)::pg_catalog.oid
    and l.objid = (v_key & 4294967295)::pg_catalog.oid
    and l.objsubid = 1
  limit 1;
  if not found then
    raise exception using
      errcode = 'DGL01',
      message = 'another session held the drift-guard repair lock a moment ago (it has since been released); try again',
      hint = 'no change was made';
  end if;
  raise exception using
    errcode = 'DGL01',
    message = pg_catalog.format(
      'the drift-guard repair lock is held by a session whose application_name claims "%s" (pid %s, user %s), in a transaction started %s, connected since %s',
      coalesce(nullif(v_holder.application_name, ''), '(none)'),
      v_holder.pid,
      coalesce(v_holder.usename::pg_catalog.text, '(not visible)'),
      coalesce(v_holder.xact_start::pg_catalog.text, '(no open transaction: a session-level lock)'),
      coalesce(v_holder.backend_start::pg_catalog.text, '(not visible)')
    ),
    hint = 'wait for that repair to finish, or end that session; no change was made';
end;
$$;

-- Creates the history table if missing, exactly as the Supabase CLI does, and attaches
-- the DDL ledger's history trigger to it (20251202000400_drift_guard_ledger.sql).
create or replace function drift_guard.ensure_history_table()
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_table pg_catalog.regclass := pg_catalog.to_regclass('supabase_migrations.schema_migrations');
  v_missing int;
begin
  if v_table is not null then
    select 2 - pg_catalog.count(*) into v_missing
    from pg_catalog.pg_attribute a
    where a.attrelid = v_table and a.attnum > 0 and not a.attisdropped and a.attname in ('name', 'statements');
    if v_missing = 0 then
      begin
        perform drift_guard.ledger_attach_history_trigger();
      exception when others then
        perform drift_guard.ledger_count_error(sqlstate, 'attach history trigger: ' || sqlerrm);
      end;
      return; -- no other DDL, so no ACCESS EXCLUSIVE lock against concurrent readers
    end if;
  end if;
  create schema if not exists supabase_migrations;
  create table if not exists supabase_migrations.schema_migrations (version pg_catalog.text not null primary key);
  alter table supabase_migrations.schema_migrations add column if not exists statements pg_catalog.text[];
  alter table supabase_migrations.schema_migrations add column if not exists name pg_catalog.text;
  begin
    perform drift_guard.ledger_attach_history_trigger();
  exception when others then
    perform drift_guard.ledger_count_error(sqlstate, 'attach history trigger: ' || sqlerrm);
  end;
end;
$$;

-- jsonb array of strings (or null) -> text[]; raises DGI01 on anything else.
create or replace function drift_guard.jsonb_to_statements(p_value pg_catalog.jsonb, p_context pg_catalog.text)
returns pg_catalog.text[]
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
  if p_value is null or pg_catalog.jsonb_typeof(p_value) = 'null' then
    return null;
  end if;
  if pg_catalog.jsonb_typeof(p_value) <> 'array'
     or exists (select 1 from pg_catalog.jsonb_array_elements(p_value) e where pg_catalog.jsonb_typeof(e) <> 'string') then
    raise exception using errcode = 'DGI01', message = p_context || ': statements must be an array of strings or null';
  end if;
  return array(
    select t.elem
    from pg_catalog.jsonb_array_elements_text(p_value) with ordinality as t(elem, ord)
    order by t.ord
  );
end;
$$;

create or replace function drift_guard.require_reason(p_reason pg_catalog.text)
returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
  if p_reason is null or pg_catalog.btrim(p_reason, E' \t\r\n') = '' then
    raise exception using errcode = 'DGI01', message = 'a reason is required: it is kept in the audit log', hint = 'pass --reason "why this repair is right"';
  end if;
end;
$$;

-- Every GRANT, REVOKE and POLICY is in 20251204000900_drift_guard_privileges.sql, which runs last.

insert into drift_guard.schema_version (version) values ('20251101000000') on conflict (version) do nothing;
