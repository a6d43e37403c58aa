-- drift-guard's own schema: the audit log, API tokens, uploaded manifests, and the
-- guarded functions that change supabase_migrations.schema_migrations.
--
-- Installed by `drift-guard install` (db/install.ts), which runs this file in one
-- transaction under an advisory lock and records its version and the sha256 of its
-- text in drift_guard.schema_version; a later release whose file changed runs it
-- again. The file is also safe to run by hand or with `supabase db push`: every
-- statement is idempotent and it records itself.
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

-- ---------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------

create table if not exists drift_guard.audit_log (
  id pg_catalog.uuid primary key default gen_random_uuid(),
  created_at pg_catalog.timestamptz not null default now(),
  kind pg_catalog.text not null check (kind in ('repair', 'undo')),
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
comment on table drift_guard.audit_log is 'Every repair and undo of supabase_migrations.schema_migrations, append-only.';

create table if not exists drift_guard.tokens (
  id pg_catalog.uuid primary key default gen_random_uuid(),
  public_id pg_catalog.text not null unique check (public_id ~ '^[0-9a-f]{12}$'),
  -- sha256 (hex) of the secret part of dg_<public_id>_<secret>; the secret itself is never stored
  secret_hash pg_catalog.text not null check (secret_hash ~ '^[0-9a-f]{64}$'),
  scope pg_catalog.text not null check (scope in ('read', 'deploy', 'repair')),
  label pg_catalog.text not null unique check (length(btrim(label)) > 0),
  created_at pg_catalog.timestamptz not null default now(),
  last_used_at pg_catalog.timestamptz null,
  revoked_at pg_catalog.timestamptz null
);
comment on table drift_guard.tokens is 'API tokens for the migration-drift function. Only hashes are stored.';

create table if not exists drift_guard.manifests (
  id bigint generated always as identity primary key,
  uploaded_at pg_catalog.timestamptz not null default now(),
  uploaded_by pg_catalog.jsonb not null,
  git_commit pg_catalog.text null,
  git_branch pg_catalog.text null,
  migration_count int not null check (migration_count >= 0),
  body pg_catalog.jsonb not null
);
comment on table drift_guard.manifests is 'Uploaded manifests, kept as history; the newest is the highest id.';

alter table drift_guard.schema_version enable row level security;
alter table drift_guard.audit_log enable row level security;
alter table drift_guard.tokens enable row level security;
alter table drift_guard.manifests enable row level security;

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
-- Internals shared by apply_repair and undo_repair
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

-- A history row as jsonb, locked for the rest of the transaction; null when absent.
create or replace function drift_guard.lock_history_row(p_version pg_catalog.text)
returns pg_catalog.jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_row pg_catalog.jsonb;
begin
  select pg_catalog.jsonb_build_object('version', m.version, 'name', m.name, 'statements', pg_catalog.to_jsonb(m.statements))
  into v_row
  from supabase_migrations.schema_migrations m
  where m.version = p_version
  for update;
  return v_row;
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

-- ---------------------------------------------------------------------------
-- apply_repair: the one way drift-guard writes the history
--
-- Set-based: the history is written with one DELETE, one UPDATE and one INSERT, and
-- the audit rows are built by aggregates, so time is linear in the rows (a first
-- version grew jsonb arrays with ||, which copies the whole array each time: a
-- 5,000-row undo took 22 s and ran past the function's statement timeout).
-- ---------------------------------------------------------------------------

create or replace function drift_guard.apply_repair(
  p_expected_digest pg_catalog.text,
  p_changes pg_catalog.jsonb,
  p_reason pg_catalog.text,
  p_actor pg_catalog.jsonb,
  p_plan pg_catalog.jsonb
)
returns pg_catalog.jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_digest_before pg_catalog.text;
  v_digest_after pg_catalog.text;
  v_problem pg_catalog.text;
  v_version pg_catalog.text;
  v_op pg_catalog.text;
  v_rows_before pg_catalog.jsonb;
  v_rows_after pg_catalog.jsonb;
  v_audit_id pg_catalog.uuid;
begin
  perform drift_guard.require_reason(p_reason);

  -- Validate the whole change list before touching anything; report the first defect in list order.
  if p_changes is null or pg_catalog.jsonb_typeof(p_changes) <> 'array' or pg_catalog.jsonb_array_length(p_changes) = 0 then
    raise exception using errcode = 'DGI01', message = 'the repair has no changes: p_changes must be a non-empty array';
  end if;
  select case
      when pg_catalog.jsonb_typeof(e.value) <> 'object' then pg_catalog.format('change %s is not an object', e.ord)
      when (e.value ->> 'op') is null or (e.value ->> 'op') not in ('insert', 'update', 'delete') then
        pg_catalog.format('change %s: op must be insert, update or delete', e.ord)
      when pg_catalog.jsonb_typeof(e.value -> 'version') is distinct from 'string' or pg_catalog.btrim(e.value ->> 'version') = '' then
        pg_catalog.format('change %s: version must be a non-empty string', e.ord)
      when coalesce(pg_catalog.jsonb_typeof(e.value -> 'name'), 'null') not in ('string', 'null') then
        pg_catalog.format('change %s: name must be a string or null', e.ord)
      when coalesce(pg_catalog.jsonb_typeof(e.value -> 'statements'), 'null') not in ('array', 'null')
        or (pg_catalog.jsonb_typeof(e.value -> 'statements') = 'array'
            and exists (select 1 from pg_catalog.jsonb_array_elements(e.value -> 'statements') s where pg_catalog.jsonb_typeof(s) <> 'string')) then
        pg_catalog.format('change %s: statements must be an array of strings or null', e.ord)
    end
  into v_problem
  from pg_catalog.jsonb_array_elements(p_changes) with ordinality as e(value, ord)
  where pg_catalog.jsonb_typeof(e.value) <> 'object'
     or (e.value ->> 'op') is null or (e.value ->> 'op') not in ('insert', 'update', 'delete')
     or pg_catalog.jsonb_typeof(e.value -> 'version') is distinct from 'string' or pg_catalog.btrim(e.value ->> 'version') = ''
     or coalesce(pg_catalog.jsonb_typeof(e.value -> 'name'), 'null') not in ('string', 'null')
     or coalesce(pg_catalog.jsonb_typeof(e.value -> 'statements'), 'null') not in ('array', 'null')
     or (pg_catalog.jsonb_typeof(e.value -> 'statements') = 'array'
         and exists (select 1 from pg_catalog.jsonb_array_elements(e.value -> 'statements') s where pg_catalog.jsonb_typeof(s) <> 'string'))
  order by e.ord
  limit 1;
  if v_problem is not null then
    raise exception using errcode = 'DGI01', message = v_problem;
  end if;

  select d.version into v_version
  from (
    select e.value ->> 'version' as version, e.ord,
           pg_catalog.row_number() over (partition by e.value ->> 'version' order by e.ord) as n
    from pg_catalog.jsonb_array_elements(p_changes) with ordinality as e(value, ord)
  ) d
  where d.n = 2
  order by d.ord
  limit 1;
  if v_version is not null then
    raise exception using errcode = 'DGI01', message = pg_catalog.format('version %s appears more than once in the repair', v_version);
  end if;

  perform drift_guard.acquire_repair_lock();

  v_digest_before := drift_guard.history_digest();
  if p_expected_digest is distinct from v_digest_before then
    raise exception using
      errcode = 'DGM01',
      message = pg_catalog.format('expected history digest %s, but the current digest is %s', coalesce(p_expected_digest, '(none)'), v_digest_before),
      hint = 'plan the repair again against the current history; no change was made';
  end if;

  perform drift_guard.ensure_history_table();

  -- Lock every touched row that exists, then snapshot them in list order.
  perform 1 from supabase_migrations.schema_migrations m
  where m.version in (select e.value ->> 'version' from pg_catalog.jsonb_array_elements(p_changes) e)
  for update;

  select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('version', c.version, 'row', h.row) order by c.ord)
  into v_rows_before
  from (select e.value ->> 'version' as version, e.ord from pg_catalog.jsonb_array_elements(p_changes) with ordinality as e(value, ord)) c
  left join lateral (
    select pg_catalog.jsonb_build_object('version', m.version, 'name', m.name, 'statements', pg_catalog.to_jsonb(m.statements)) as row
    from supabase_migrations.schema_migrations m where m.version = c.version
  ) h on true;

  -- The first change that does not fit the history as it is.
  select c.op, c.version into v_op, v_version
  from (select e.value ->> 'op' as op, e.value ->> 'version' as version, e.ord
        from pg_catalog.jsonb_array_elements(p_changes) with ordinality as e(value, ord)) c
  left join supabase_migrations.schema_migrations m on m.version = c.version
  where (c.op = 'insert') = (m.version is not null)
  order by c.ord
  limit 1;
  if v_op = 'insert' then
    raise exception using errcode = 'DGM01', message = pg_catalog.format('version %s is already in the history, so it cannot be inserted', v_version),
      hint = 'plan the repair again; no change was made';
  elsif v_op is not null then
    raise exception using errcode = 'DGM01', message = pg_catalog.format('version %s is not in the history, so it cannot be %s', v_version, v_op || 'd'),
      hint = 'plan the repair again; no change was made';
  end if;

  delete from supabase_migrations.schema_migrations m
  using pg_catalog.jsonb_array_elements(p_changes) e
  where e.value ->> 'op' = 'delete' and m.version = e.value ->> 'version';

  update supabase_migrations.schema_migrations m
  set name = e.value ->> 'name',
      statements = drift_guard.jsonb_to_statements(e.value -> 'statements', 'change ' || (e.value ->> 'version'))
  from pg_catalog.jsonb_array_elements(p_changes) e
  where e.value ->> 'op' = 'update' and m.version = e.value ->> 'version';

  begin
    insert into supabase_migrations.schema_migrations (version, name, statements)
    select e.value ->> 'version', e.value ->> 'name', drift_guard.jsonb_to_statements(e.value -> 'statements', 'change ' || (e.value ->> 'version'))
    from pg_catalog.jsonb_array_elements(p_changes) with ordinality as e(value, ord)
    where e.value ->> 'op' = 'insert'
    order by e.ord;
  exception when unique_violation then
    raise exception using errcode = 'DGM01', message = 'a version of this repair was inserted into the history by another session meanwhile',
      hint = 'plan the repair again; no change was made';
  end;

  select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('version', c.version, 'row', h.row) order by c.ord)
  into v_rows_after
  from (select e.value ->> 'version' as version, e.ord from pg_catalog.jsonb_array_elements(p_changes) with ordinality as e(value, ord)) c
  left join lateral (
    select pg_catalog.jsonb_build_object('version', m.version, 'name', m.name, 'statements', pg_catalog.to_jsonb(m.statements)) as row
    from supabase_migrations.schema_migrations m where m.version = c.version
  ) h on true;

  v_digest_after := drift_guard.history_digest();

  insert into drift_guard.audit_log (kind, actor, reason, plan, digest_before, digest_after, rows_before, rows_after)
  values (
    'repair',
    coalesce(p_actor, '{}'::pg_catalog.jsonb),
    p_reason,
    coalesce(p_plan, pg_catalog.jsonb_build_object('changes', p_changes)),
    v_digest_before,
    v_digest_after,
    v_rows_before,
    v_rows_after
  )
  returning id into v_audit_id;

  return pg_catalog.jsonb_build_object(
    'audit_id', v_audit_id,
    'history_digest', v_digest_after,
    'digest_before', v_digest_before
  );
end;
$$;

-- ---------------------------------------------------------------------------
-- undo_repair: put back exactly the rows a repair changed
-- ---------------------------------------------------------------------------

create or replace function drift_guard.undo_repair(p_audit_id pg_catalog.uuid, p_reason pg_catalog.text, p_actor pg_catalog.jsonb)
returns pg_catalog.jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_original drift_guard.audit_log%rowtype;
  v_digest_before pg_catalog.text;
  v_digest_after pg_catalog.text;
  v_changes pg_catalog.jsonb;
  v_rows_before pg_catalog.jsonb;
  v_rows_after pg_catalog.jsonb;
  v_audit_id pg_catalog.uuid;
begin
  perform drift_guard.require_reason(p_reason);
  if p_audit_id is null then
    raise exception using errcode = 'DGI01', message = 'an audit id is required';
  end if;

  perform drift_guard.acquire_repair_lock();

  select * into v_original from drift_guard.audit_log a where a.id = p_audit_id for update;
  if not found then
    raise exception using errcode = 'DGN01', message = pg_catalog.format('no audit entry has id %s', p_audit_id);
  end if;
  if v_original.kind = 'undo' then
    raise exception using errcode = 'DGI01',
      message = pg_catalog.format('audit entry %s is itself an undo (of %s); to redo that repair, plan and apply it again', p_audit_id, v_original.undoes);
  end if;
  if v_original.kind <> 'repair' then
    -- An acknowledgement of ledger entries (20251202000400) changed no history: nothing to undo.
    raise exception using errcode = 'DGI01',
      message = pg_catalog.format('audit entry %s is an acknowledgement (%s), not a repair: it changed no history, so there is nothing to undo', p_audit_id, v_original.kind);
  end if;
  if v_original.undone_by is not null then
    raise exception using errcode = 'DGI01',
      message = pg_catalog.format('repair %s was already undone by %s', p_audit_id, v_original.undone_by);
  end if;

  v_digest_before := drift_guard.history_digest();
  if v_digest_before is distinct from v_original.digest_after then
    raise exception using
      errcode = 'DGM01',
      message = pg_catalog.format('the history changed since repair %s: it left digest %s, the current digest is %s', p_audit_id, v_original.digest_after, v_digest_before),
      hint = 'undo the later repairs first (newest first), or plan a new repair; no change was made';
  end if;

  perform drift_guard.ensure_history_table();

  perform 1 from supabase_migrations.schema_migrations m
  where m.version in (select e.value ->> 'version' from pg_catalog.jsonb_array_elements(v_original.rows_before) e)
  for update;

  -- Per touched version: the row the repair found (target) and the row there now (current), in the repair's order.
  select
    coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('version', t.version, 'row', h.row) order by t.ord), '[]'::pg_catalog.jsonb),
    coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
        'op', case when t.target is null then 'delete' when h.row is null then 'insert' else 'update' end,
        'version', t.version,
        'name', case when t.target is null then h.row -> 'name' else t.target -> 'name' end)
      order by t.ord) filter (where t.target is not null or h.row is not null), '[]'::pg_catalog.jsonb)
  into v_rows_before, v_changes
  from (
    select e.value ->> 'version' as version, e.ord, nullif(e.value -> 'row', 'null'::pg_catalog.jsonb) as target
    from pg_catalog.jsonb_array_elements(v_original.rows_before) with ordinality as e(value, ord)
  ) t
  left join lateral (
    select pg_catalog.jsonb_build_object('version', m.version, 'name', m.name, 'statements', pg_catalog.to_jsonb(m.statements)) as row
    from supabase_migrations.schema_migrations m where m.version = t.version
  ) h on true;

  delete from supabase_migrations.schema_migrations m
  using pg_catalog.jsonb_array_elements(v_original.rows_before) e
  where pg_catalog.jsonb_typeof(e.value -> 'row') is distinct from 'object' and m.version = e.value ->> 'version';

  update supabase_migrations.schema_migrations m
  set name = e.value -> 'row' ->> 'name',
      statements = drift_guard.jsonb_to_statements(e.value -> 'row' -> 'statements', 'audit row ' || (e.value ->> 'version'))
  from pg_catalog.jsonb_array_elements(v_original.rows_before) e
  where pg_catalog.jsonb_typeof(e.value -> 'row') = 'object' and m.version = e.value ->> 'version';

  insert into supabase_migrations.schema_migrations (version, name, statements)
  select e.value ->> 'version', e.value -> 'row' ->> 'name',
         drift_guard.jsonb_to_statements(e.value -> 'row' -> 'statements', 'audit row ' || (e.value ->> 'version'))
  from pg_catalog.jsonb_array_elements(v_original.rows_before) with ordinality as e(value, ord)
  where pg_catalog.jsonb_typeof(e.value -> 'row') = 'object'
    and not exists (select 1 from supabase_migrations.schema_migrations m where m.version = e.value ->> 'version')
  order by e.ord;

  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('version', t.version, 'row', h.row) order by t.ord), '[]'::pg_catalog.jsonb)
  into v_rows_after
  from (select e.value ->> 'version' as version, e.ord from pg_catalog.jsonb_array_elements(v_original.rows_before) with ordinality as e(value, ord)) t
  left join lateral (
    select pg_catalog.jsonb_build_object('version', m.version, 'name', m.name, 'statements', pg_catalog.to_jsonb(m.statements)) as row
    from supabase_migrations.schema_migrations m where m.version = t.version
  ) h on true;

  v_digest_after := drift_guard.history_digest();
  if v_digest_after is distinct from v_original.digest_before then
    raise exception using
      errcode = 'DGX01',
      message = pg_catalog.format('undo of %s would leave digest %s instead of the recorded %s; nothing was changed', p_audit_id, v_digest_after, v_original.digest_before);
  end if;

  insert into drift_guard.audit_log (kind, actor, reason, plan, digest_before, digest_after, rows_before, rows_after, undoes)
  values (
    'undo',
    coalesce(p_actor, '{}'::pg_catalog.jsonb),
    p_reason,
    pg_catalog.jsonb_build_object('undo_of', p_audit_id, 'changes', v_changes),
    v_digest_before,
    v_digest_after,
    v_rows_before,
    v_rows_after,
    p_audit_id
  )
  returning id into v_audit_id;

  update drift_guard.audit_log a set undone_by = v_audit_id where a.id = p_audit_id;

  return pg_catalog.jsonb_build_object(
    'audit_id', v_audit_id,
    'history_digest', v_digest_after,
    'digest_before', v_digest_before,
    'undoes', p_audit_id
  );
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

-- ---------------------------------------------------------------------------
-- Tokens
-- ---------------------------------------------------------------------------

create or replace function drift_guard.create_token(p_label pg_catalog.text, p_scope pg_catalog.text, p_public_id pg_catalog.text, p_secret_hash pg_catalog.text)
returns pg_catalog.jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_token drift_guard.tokens%rowtype;
begin
  if p_label is null or pg_catalog.btrim(p_label) = '' then
    raise exception using errcode = 'DGI01', message = 'a token needs a non-empty label';
  end if;
  if p_scope is null or p_scope not in ('read', 'deploy', 'repair') then
    raise exception using errcode = 'DGI01', message = pg_catalog.format('unknown scope "%s": use read, deploy or repair', p_scope);
  end if;
  if p_public_id is null or p_public_id !~ '^[0-9a-f]{12}$' then
    raise exception using errcode = 'DGI01', message = 'the public id must be 12 lowercase hex characters';
  end if;
  if p_secret_hash is null or p_secret_hash !~ '^[0-9a-f]{64}$' then
    raise exception using errcode = 'DGI01', message = 'the secret hash must be 64 lowercase hex characters (sha256)';
  end if;
  if exists (select 1 from drift_guard.tokens t where t.label = p_label) then
    raise exception using errcode = 'DGI01', message = pg_catalog.format('a token labelled "%s" already exists', p_label),
      hint = 'choose another label (labels stay taken after a token is revoked)';
  end if;
  begin
    insert into drift_guard.tokens (label, scope, public_id, secret_hash)
    values (p_label, p_scope, p_public_id, p_secret_hash)
    returning * into v_token;
  exception when unique_violation then
    raise exception using errcode = 'DGI01', message = pg_catalog.format('a token labelled "%s" (or with the same public id) already exists', p_label);
  end;
  return pg_catalog.jsonb_build_object(
    'id', v_token.id, 'label', v_token.label, 'scope', v_token.scope,
    'public_id', v_token.public_id, 'created_at', v_token.created_at
  );
end;
$$;

-- The token row for a public id (revoked ones too: the caller decides). No side effects.
create or replace function drift_guard.find_token(p_public_id pg_catalog.text)
returns table (id pg_catalog.uuid, label pg_catalog.text, scope pg_catalog.text, secret_hash pg_catalog.text, revoked_at pg_catalog.timestamptz)
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  select t.id, t.label, t.scope, t.secret_hash, t.revoked_at
  from drift_guard.tokens t
  where t.public_id = p_public_id
$$;

-- Records a successful use; at most one write a minute per token.
create or replace function drift_guard.touch_token(p_id pg_catalog.uuid)
returns void
language sql
volatile
set search_path = pg_catalog, pg_temp
as $$
  update drift_guard.tokens t
  set last_used_at = pg_catalog.now()
  where t.id = p_id
    and (t.last_used_at is null or t.last_used_at < pg_catalog.now() - interval '1 minute')
$$;

-- Revokes by label, id or public id. Null when nothing matches.
create or replace function drift_guard.revoke_token(p_label_or_id pg_catalog.text)
returns pg_catalog.jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_ids pg_catalog.uuid[];
begin
  select pg_catalog.array_agg(t.id) into v_ids
  from drift_guard.tokens t
  where t.label = p_label_or_id or t.id::pg_catalog.text = pg_catalog.lower(p_label_or_id) or t.public_id = pg_catalog.lower(p_label_or_id);
  if v_ids is null then
    return null;
  end if;
  if pg_catalog.cardinality(v_ids) > 1 then
    raise exception using errcode = 'DGI01',
      message = pg_catalog.format('"%s" names %s tokens (one by its label, another by its id): nothing was revoked', p_label_or_id, pg_catalog.cardinality(v_ids)),
      hint = 'say which: drift-guard token revoke --id ID, or --label LABEL';
  end if;
  return drift_guard.revoke_token_by('id', v_ids[1]::pg_catalog.text);
end;
$$;

-- ---------------------------------------------------------------------------
-- Manifests
-- ---------------------------------------------------------------------------

-- SECURITY DEFINER: the only way service_role (deploy scope through PostgREST) writes a
-- manifest, so that it needs no INSERT on the table. It writes one row, checked, and nothing
-- else; every name is qualified and the path ends in pg_temp, so no object of the caller's
-- is looked up. The row itself is the record: uploaded_by, uploaded_at and the body.
create or replace function drift_guard.store_manifest(p_body pg_catalog.jsonb, p_uploaded_by pg_catalog.jsonb)
returns pg_catalog.jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_row drift_guard.manifests%rowtype;
begin
  if p_body is null or pg_catalog.jsonb_typeof(p_body) <> 'object' or pg_catalog.jsonb_typeof(p_body -> 'migrations') is distinct from 'array' then
    raise exception using errcode = 'DGI01', message = 'a manifest is a JSON object with a migrations array';
  end if;
  if p_uploaded_by is not null and pg_catalog.jsonb_typeof(p_uploaded_by) <> 'object' then
    raise exception using errcode = 'DGI01', message = 'uploaded_by is a JSON object';
  end if;
  if pg_catalog.octet_length(p_body::pg_catalog.text) > 67108864 or pg_catalog.octet_length(coalesce(p_uploaded_by, '{}'::pg_catalog.jsonb)::pg_catalog.text) > 65536 then
    raise exception using errcode = 'DGI01', message = 'a manifest is at most 64 MiB, its uploaded_by at most 64 KiB';
  end if;
  insert into drift_guard.manifests (uploaded_by, git_commit, git_branch, migration_count, body)
  values (
    coalesce(p_uploaded_by, '{}'::pg_catalog.jsonb),
    case when pg_catalog.jsonb_typeof(p_body -> 'git') = 'object' then p_body -> 'git' ->> 'commit' end,
    case when pg_catalog.jsonb_typeof(p_body -> 'git') = 'object' then p_body -> 'git' ->> 'branch' end,
    pg_catalog.jsonb_array_length(p_body -> 'migrations'),
    p_body
  )
  returning * into v_row;
  return pg_catalog.jsonb_build_object(
    'id', v_row.id, 'uploaded_at', v_row.uploaded_at, 'uploaded_by', v_row.uploaded_by,
    'git_commit', v_row.git_commit, 'git_branch', v_row.git_branch, 'migration_count', v_row.migration_count
  );
end;
$$;

-- The newest manifest with its metadata, or null when none was uploaded.
create or replace function drift_guard.current_manifest()
returns pg_catalog.jsonb
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  select pg_catalog.jsonb_build_object(
    'id', m.id, 'uploaded_at', m.uploaded_at, 'uploaded_by', m.uploaded_by,
    'git_commit', m.git_commit, 'git_branch', m.git_branch, 'migration_count', m.migration_count,
    'body', m.body
  )
  from drift_guard.manifests m
  order by m.id desc
  limit 1
$$;

-- Every GRANT, REVOKE and POLICY is in 20251204000900_drift_guard_privileges.sql, which runs last.

insert into drift_guard.schema_version (version) values ('20251101000000') on conflict (version) do nothing;
