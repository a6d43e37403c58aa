-- drift-guard's DDL ledger: every schema change, recorded the moment it runs, with who,
-- when and from where, and whether a migration recorded it.
--
-- How a change is classified:
--   `supabase db push` runs each migration file and its history insert in ONE transaction,
--   so the DDL and the insert into supabase_migrations.schema_migrations share txid_current().
--   drift_guard.ddl_ledger records each DDL command with its txid (an event trigger), and
--   drift_guard.history_writes records the txid of every history insert, update and delete
--   (a row trigger on schema_migrations). An entry is TRACKED by version V when its txid also
--   inserted or updated V's history row, and UNTRACKED otherwise (psql, the SQL editor, a
--   dashboard, a script). `supabase migration repair --status applied` writes the history in
--   a transaction of its own, so it never makes earlier DDL tracked; drift-guard's own repair
--   (`repair --mark-applied`) links the entries for the objects the migration creates.
--
-- The triggers never break DDL: any error inside them is caught and counted in
-- drift_guard.ledger_health, never raised.
--
-- Privileges. This file runs as `postgres` without superuser, as on hosted Supabase.
--   - CREATE EVENT TRIGGER needs superuser on plain Postgres. On Supabase, the supautils
--     extension lets the privileged role (`postgres`) create event triggers; supautils then
--     never fires them for superusers or its reserved roles (supabase_admin,
--     supabase_auth_admin, ...), so platform upgrades are not recorded there at all. Where the
--     installing role may not create event triggers, this file still installs (tables,
--     functions, history trigger) and the ledger reports itself inactive
--     (drift_guard.ledger_status()); a role that may then runs `select drift_guard.ledger_activate();`.
--   - The two trigger functions are SECURITY DEFINER (owner: the installing role) so that a
--     change made by ANY role is recorded without granting that role write access to the
--     ledger (which would let it forge or erase entries). They can only run as triggers:
--     Postgres refuses to call a trigger or event-trigger function directly. Everything else
--     is SECURITY INVOKER. All functions pin search_path = pg_catalog, pg_temp and qualify every name.
--
-- Settings (drift_guard.ledger_settings, one row; change with UPDATE as postgres):
--   skip_roles      sessions of these login roles are not recorded (platform services)
--   skip_schemas    objects in these schemas are not recorded (platform schemas); drift_guard's
--                   own schema and temporary schemas are always skipped
--   retention_days  entries older than this are pruned (default 90)
--   retention_rows  at most this many entries are kept (default 100,000)
--   statement_max_chars  the statement is stored truncated to this many characters
--
-- SQLSTATEs raised: DGI01 bad input, DGN01 unknown ledger entry.

-- Marks this transaction as drift_guard's own install, so that the DDL ledger does not record
-- its GRANTs and REVOKEs (only for the schema's owner; transaction-local, gone at commit).
select pg_catalog.set_config('drift_guard.installing', 'on', true);

create schema if not exists drift_guard;

-- ---------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------

create table if not exists drift_guard.ledger_settings (
  id boolean primary key default true check (id),
  skip_roles pg_catalog.text[] not null default array[
    'supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin', 'supabase_realtime_admin',
    'supabase_functions_admin', 'supabase_replication_admin', 'supabase_read_only_user',
    'supabase_etl_admin', 'pgbouncer'
  ]::pg_catalog.text[],
  skip_schemas pg_catalog.text[] not null default array[
    'auth', 'storage', 'realtime', '_realtime', 'supabase_functions', 'supabase_migrations',
    'graphql', 'graphql_public', 'pgsodium', 'pgsodium_masks', 'vault', 'net', 'cron',
    '_analytics', 'pgbouncer', 'pgtle', 'information_schema', 'pg_catalog'
  ]::pg_catalog.text[],
  retention_days int not null default 90 check (retention_days > 0),
  retention_rows int not null default 100000 check (retention_rows > 0),
  statement_max_chars int not null default 4096 check (statement_max_chars between 64 and 1000000),
  installed_at pg_catalog.timestamptz not null default pg_catalog.now()
);
comment on table drift_guard.ledger_settings is 'DDL ledger settings (one row): skip lists, retention, statement truncation.';
insert into drift_guard.ledger_settings (id) values (true) on conflict (id) do nothing;

-- Who, when and from where are column defaults, evaluated with each entry the event trigger
-- inserts. Under its SECURITY DEFINER current_user is the owner: the caller's role is the
-- session's, or its SET ROLE.
create table if not exists drift_guard.ddl_ledger (
  id bigint generated always as identity primary key,
  recorded_at pg_catalog.timestamptz not null default pg_catalog.clock_timestamp(),
  txid bigint not null default pg_catalog.txid_current(),
  event pg_catalog.text not null, -- 'ddl_command_end' or 'sql_drop': written only by the trigger, so not checked at each insert
  command_tag pg_catalog.text not null,
  object_type pg_catalog.text null,
  object_identity pg_catalog.text null,
  schema_name pg_catalog.text null,
  session_user_name pg_catalog.text not null default session_user,
  current_user_name pg_catalog.text not null default coalesce(nullif(pg_catalog.current_setting('role', true), 'none'), session_user::pg_catalog.text),
  jwt_sub pg_catalog.text null,
  jwt_role pg_catalog.text null,
  application_name pg_catalog.text null default pg_catalog.left(pg_catalog.current_setting('application_name', true), 200),
  client_addr pg_catalog.inet null default pg_catalog.inet_client_addr(),
  client_port int null default pg_catalog.inet_client_port(),
  backend_pid int not null default pg_catalog.pg_backend_pid(),
  statement pg_catalog.text null,
  statement_length int null,
  statement_hash pg_catalog.text null, -- only when the statement is stored truncated; readers hash `statement` otherwise
  linked_version pg_catalog.text null,
  linked_audit_id pg_catalog.uuid null,
  acked_audit_id pg_catalog.uuid null,
  alerted_at pg_catalog.timestamptz null,
  alert_claimed_until pg_catalog.timestamptz null -- a check is delivering the alert for this entry until then
);
-- Installs made before the defaults: the same table, brought to this definition.
alter table drift_guard.ddl_ledger
  alter column txid set default pg_catalog.txid_current(),
  alter column session_user_name set default session_user,
  alter column current_user_name set default coalesce(nullif(pg_catalog.current_setting('role', true), 'none'), session_user::pg_catalog.text),
  alter column application_name set default pg_catalog.left(pg_catalog.current_setting('application_name', true), 200),
  alter column client_addr set default pg_catalog.inet_client_addr(),
  alter column client_port set default pg_catalog.inet_client_port(),
  alter column backend_pid set default pg_catalog.pg_backend_pid(),
  add column if not exists alert_claimed_until pg_catalog.timestamptz null,
  drop constraint if exists ddl_ledger_event_check;
-- The primary key is the only index and there is no foreign key or CHECK: each would cost every
-- DDL statement an index insert, a trigger event or an expression built at every insert
-- (bench/ledger.ts). Reads scan at most retention_rows entries; ddl_ledger_audit_ids_exist
-- checks the audit ids when they are set.
drop index if exists drift_guard.ddl_ledger_txid_idx;
drop index if exists drift_guard.ddl_ledger_linked_audit_id_idx;
drop index if exists drift_guard.ddl_ledger_acked_audit_id_idx;
alter table drift_guard.ddl_ledger drop constraint if exists ddl_ledger_linked_audit_id_fkey;
alter table drift_guard.ddl_ledger drop constraint if exists ddl_ledger_acked_audit_id_fkey;
comment on table drift_guard.ddl_ledger is 'Every DDL command the event trigger saw: who, when, from where, and its txid.';

create table if not exists drift_guard.history_writes (
  id bigint generated always as identity primary key,
  recorded_at pg_catalog.timestamptz not null default pg_catalog.clock_timestamp(),
  txid bigint not null,
  op pg_catalog.text not null check (op in ('insert', 'update', 'delete')),
  version pg_catalog.text not null,
  session_user_name pg_catalog.text not null,
  application_name pg_catalog.text null
);
create index if not exists history_writes_txid_idx on drift_guard.history_writes (txid);
create index if not exists history_writes_recorded_at_idx on drift_guard.history_writes (recorded_at);
comment on table drift_guard.history_writes is 'The txid of every write to supabase_migrations.schema_migrations.';

create table if not exists drift_guard.ledger_health (
  id boolean primary key default true check (id),
  errors bigint not null default 0,
  last_error_at pg_catalog.timestamptz null,
  last_error_sqlstate pg_catalog.text null,
  last_error_message pg_catalog.text null,
  alerted_entries bigint not null default 0
);
alter table drift_guard.ledger_health add column if not exists alerted_entries bigint not null default 0;
comment on table drift_guard.ledger_health is 'The ledger''s counters: errors caught inside its triggers (never raised into the DDL), and entries whose alert was delivered.';
insert into drift_guard.ledger_health (id) values (true) on conflict (id) do nothing;

alter table drift_guard.ledger_settings enable row level security;
alter table drift_guard.ddl_ledger enable row level security;
alter table drift_guard.history_writes enable row level security;
alter table drift_guard.ledger_health enable row level security;

-- What the foreign keys would check, and more, at the only time it can fail: when a link, an
-- acknowledgement or an alert mark changes an entry (entries are inserted without them; audit
-- rows are never deleted). Holds for every role, the owner too:
--   - acked_audit_id is set once, to an audit row of kind 'ack' whose plan names this entry
--     (what drift_guard.ledger_ack writes);
--   - linked_audit_id names a repair;
--   - alerted_at is set only inside drift_guard.ledger_mark_alerted, which raises a
--     transaction-local setting around its own UPDATE.
create or replace function drift_guard.ddl_ledger_audit_ids_exist()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
  v_id pg_catalog.uuid;
begin
  foreach v_id in array array[
    case when new.linked_audit_id is distinct from old.linked_audit_id then new.linked_audit_id end,
    case when new.acked_audit_id is distinct from old.acked_audit_id then new.acked_audit_id end] loop
    if v_id is not null and not exists (select 1 from drift_guard.audit_log a where a.id = v_id) then
      raise exception using errcode = '23503', message = pg_catalog.format('no audit entry has id %s', v_id);
    end if;
  end loop;
  if new.acked_audit_id is distinct from old.acked_audit_id then
    if old.acked_audit_id is not null or not exists (
      select 1 from drift_guard.audit_log a
      where a.id = new.acked_audit_id and a.kind = 'ack' and (a.plan -> 'ack') @> pg_catalog.to_jsonb(new.id)) then
      raise exception using errcode = '23503',
        message = pg_catalog.format('ledger entry %s can be acknowledged only once, by an ack audit entry that names it (drift_guard.ledger_ack); %s is not one', new.id, new.acked_audit_id);
    end if;
  end if;
  if new.linked_audit_id is distinct from old.linked_audit_id and new.linked_audit_id is not null
     and not exists (select 1 from drift_guard.audit_log a where a.id = new.linked_audit_id and a.kind = 'repair') then
    raise exception using errcode = '23503', message = pg_catalog.format('no repair audit entry has id %s', new.linked_audit_id);
  end if;
  if new.alerted_at is distinct from old.alerted_at
     and pg_catalog.current_setting('drift_guard.marking_alerted', true) is distinct from 'on' then
    raise exception using errcode = 'DGA01',
      message = pg_catalog.format('ledger entry %s: alerted_at is set only by drift_guard.ledger_mark_alerted', new.id);
  end if;
  return new;
end;
$$;

drop trigger if exists ddl_ledger_audit_ids_exist on drift_guard.ddl_ledger;
create trigger ddl_ledger_audit_ids_exist
  before update of linked_audit_id, acked_audit_id, alerted_at on drift_guard.ddl_ledger
  for each row execute function drift_guard.ddl_ledger_audit_ids_exist();

-- ---------------------------------------------------------------------------
-- Internals of the triggers
-- ---------------------------------------------------------------------------

-- Counts an error caught inside a ledger trigger. Never raises.
create or replace function drift_guard.ledger_count_error(p_sqlstate pg_catalog.text, p_message pg_catalog.text)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
  begin
    update drift_guard.ledger_health h
    set errors = h.errors + 1,
        last_error_at = pg_catalog.clock_timestamp(),
        last_error_sqlstate = p_sqlstate,
        last_error_message = pg_catalog.left(p_message, 500)
    where h.id;
  exception when others then
    null; -- counting must not break DDL either
  end;
end;
$$;

-- The JWT claims of the session (PostgREST / the SQL editor set request.jwt.claims), or null.
-- A claim that is not valid jsonb (e.g. a \u0000 escape, which jsonb rejects) is cleaned, never fatal.
create or replace function drift_guard.ledger_jwt_claims()
returns pg_catalog.jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
  v_raw pg_catalog.text := nullif(pg_catalog.current_setting('request.jwt.claims', true), '');
begin
  if v_raw is null then
    return null;
  end if;
  begin
    return v_raw::pg_catalog.jsonb;
  exception when others then
    begin
      return pg_catalog.replace(v_raw, '\u0000', '')::pg_catalog.jsonb;
    exception when others then
      return null;
    end;
  end;
end;
$$;

-- The schema of a trigger, policy or rule, whose identity reads `name on schema.table` and whose
-- schema_name Postgres leaves null.
create or replace function drift_guard.ledger_identity_schema(p_identity pg_catalog.text)
returns pg_catalog.text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select case when m.part like '"%' then pg_catalog.replace(pg_catalog.substr(m.part, 2, pg_catalog.length(m.part) - 2), '""', '"') else m.part end
  from (select (pg_catalog.regexp_match(p_identity, ' on ("(?:[^"]|"")+"|[^". ]+)\.("(?:[^"]|"")+"|[^". ]+)$'))[1] as part) m
$$;

-- Attaches the history trigger to supabase_migrations.schema_migrations once the table exists.
-- Called at install, by the event trigger (the CLI creates the table on its first push), and
-- by ensure_history_table (drift-guard's repair). Returns true when the trigger is in place.
create or replace function drift_guard.ledger_attach_history_trigger()
returns boolean
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_table pg_catalog.regclass := pg_catalog.to_regclass('supabase_migrations.schema_migrations');
begin
  if v_table is null then
    return false;
  end if;
  if exists (select 1 from pg_catalog.pg_trigger t where t.tgrelid = v_table and t.tgname = 'drift_guard_history_writes') then
    return true;
  end if;
  create trigger drift_guard_history_writes
    after insert or update or delete on supabase_migrations.schema_migrations
    for each row execute function drift_guard.ledger_record_history_write();
  return true;
end;
$$;

-- The versions that make entries of transaction p_txid tracked: history rows that the
-- transaction inserted or updated, that it did not delete again afterwards, and that still
-- exist now. A row inserted and deleted in the same transaction, or deleted since, does not
-- count. Null when there is none.
create or replace function drift_guard.ledger_tracked_by(p_txid pg_catalog.int8)
returns pg_catalog.text[]
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
  v_versions pg_catalog.text[];
begin
  if pg_catalog.to_regclass('supabase_migrations.schema_migrations') is null then
    return null;
  end if;
  execute $q$
    select pg_catalog.array_agg(distinct w.version order by w.version)
    from drift_guard.history_writes w
    where w.txid = $1 and w.op <> 'delete'
      and not exists (select 1 from drift_guard.history_writes d
                      where d.txid = w.txid and d.version = w.version and d.op = 'delete' and d.id > w.id)
      and exists (select 1 from supabase_migrations.schema_migrations m where m.version = w.version)
  $q$ into v_versions using p_txid;
  return v_versions;
end;
$$;

-- Keeps the ledger within its retention, deleting only entries that are resolved: tracked
-- by a history row that still exists, linked by a repair not undone, or acknowledged. An
-- untracked, unacknowledged entry is never pruned, however old or however many: a flood of
-- cheap DDL cannot push a real change out. The event trigger runs it about once per 1,000 DDL
-- statements. It never waits: rows another transaction holds (a prune inside a long
-- transaction, a link, an ack) are skipped (SKIP LOCKED), and at most 10,000 go at once.
create or replace function drift_guard.ledger_prune()
returns pg_catalog.int8
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_settings drift_guard.ledger_settings%rowtype;
  v_max pg_catalog.int8;
  v_deleted pg_catalog.int8;
begin
  select * into v_settings from drift_guard.ledger_settings s where s.id;
  if not found then
    return 0;
  end if;
  select pg_catalog.max(l.id) into v_max from drift_guard.ddl_ledger l;
  -- One statement, the tracked test inline (what drift_guard.ledger_tracked_by says per
  -- transaction), so that a long ledger costs one scan, not a call per entry.
  execute pg_catalog.format($q$
    with doomed as (
      select l.id from drift_guard.ddl_ledger l
      where (l.recorded_at < pg_catalog.now() - pg_catalog.make_interval(days => $1)
             or l.id <= $2 - $3)
        and (l.acked_audit_id is not null
             or (l.linked_audit_id is not null
                 and exists (select 1 from drift_guard.audit_log a where a.id = l.linked_audit_id and a.undone_by is null))
             or %s)
      order by l.id
      limit 10000
      for update of l skip locked)
    delete from drift_guard.ddl_ledger l using doomed d where l.id = d.id
    $q$,
    case when pg_catalog.to_regclass('supabase_migrations.schema_migrations') is null then 'false' else
      $t$exists (select 1 from drift_guard.history_writes w
                 where w.txid = l.txid and w.op <> 'delete'
                   and not exists (select 1 from drift_guard.history_writes x
                                   where x.txid = w.txid and x.version = w.version and x.op = 'delete' and x.id > w.id)
                   and exists (select 1 from supabase_migrations.schema_migrations m where m.version = w.version))$t$ end)
  using v_settings.retention_days, coalesce(v_max, 0), v_settings.retention_rows;
  get diagnostics v_deleted = row_count;
  -- A history write is kept while an entry of its transaction is: it is what makes that entry tracked.
  with doomed as (
    select w.id from drift_guard.history_writes w
    where w.recorded_at < pg_catalog.now() - pg_catalog.make_interval(days => v_settings.retention_days)
      and not exists (select 1 from drift_guard.ddl_ledger l where l.txid = w.txid)
    order by w.id
    limit 10000
    for update of w skip locked)
  delete from drift_guard.history_writes w using doomed d where w.id = d.id;
  return v_deleted;
end;
$$;

-- ---------------------------------------------------------------------------
-- The triggers
-- ---------------------------------------------------------------------------

create or replace function drift_guard.ledger_record_history_write()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  begin
    if tg_op = 'DELETE' then
      insert into drift_guard.history_writes (txid, op, version, session_user_name, application_name)
      values (pg_catalog.txid_current(), 'delete', old.version, session_user, pg_catalog.current_setting('application_name', true));
    else
      insert into drift_guard.history_writes (txid, op, version, session_user_name, application_name)
      values (pg_catalog.txid_current(), pg_catalog.lower(tg_op), new.version, session_user, pg_catalog.current_setting('application_name', true));
    end if;
  exception when others then
    perform drift_guard.ledger_count_error(sqlstate, 'history trigger: ' || sqlerrm);
  end;
  return null;
end;
$$;

create or replace function drift_guard.ledger_record_ddl()
returns event_trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
-- Without it, the plan cache re-plans each INSERT below at every call (its plpgsql variables are
-- parameters), which cost more than the rest of the trigger together (bench/ledger.ts).
set plan_cache_mode = force_generic_plan
as $$
-- Runs at every DDL statement, so it does as little as it can (docs/ledger.md#overhead). Most of
-- its time is executor start-up, once per SQL statement below:
--   - who, when and from where are ddl_ledger's column defaults, evaluated with each entry;
--   - one INSERT per event, reading only that event's function: a UNION ALL of the two set up
--     both function scans at every call, the largest single cost of the trigger;
--   - the statement's hash only when the statement is stored truncated (readers hash the
--     stored text otherwise); the table has no index, constraint or foreign key that is not needed.
-- The exception block guarantees that a failing ledger never breaks DDL.
declare
  v_settings drift_guard.ledger_settings;
  v_query pg_catalog.text;
  v_statement pg_catalog.text;
  v_length int;
  v_hash pg_catalog.text;
  v_claims pg_catalog.jsonb;
  v_jwt_sub pg_catalog.text;
  v_jwt_role pg_catalog.text;
  v_history pg_catalog.regclass;
  v_installing pg_catalog.bool := false;
begin
  begin
    select * into v_settings from drift_guard.ledger_settings s where s.id;
    if pg_catalog.current_setting('drift_guard.installing', true) = 'on' then
      v_installing := exists (select 1 from pg_catalog.pg_namespace n
                              where n.nspname = 'drift_guard'
                                and n.nspowner = (select r.oid from pg_catalog.pg_roles r
                                                  where r.rolname = coalesce(nullif(pg_catalog.current_setting('role', true), 'none'), session_user::pg_catalog.text)));
    end if;
    if not (session_user::pg_catalog.text = any (v_settings.skip_roles)) then
      v_query := pg_catalog.current_query();
      v_statement := pg_catalog.left(v_query, v_settings.statement_max_chars);
      v_length := pg_catalog.length(v_query);
      if v_length > v_settings.statement_max_chars then
        v_hash := 'sha256:' || pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(v_query, 'UTF8')), 'hex');
      end if;
      if pg_catalog.current_setting('request.jwt.claims', true) <> '' then
        v_claims := drift_guard.ledger_jwt_claims();
      end if;
      v_jwt_sub := pg_catalog.left(coalesce(v_claims ->> 'sub', nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), '')), 200);
      v_jwt_role := pg_catalog.left(coalesce(v_claims ->> 'role', nullif(pg_catalog.current_setting('request.jwt.claim.role', true), '')), 200);
      -- Skipped in both: drift_guard's own objects, temporary and TOAST objects, the skipped schemas,
      -- and event triggers. Triggers, policies and rules (`name on schema.table`) come without a
      -- schema name: it is read from their identity.
      if tg_event = 'ddl_command_end' then
        insert into drift_guard.ddl_ledger (event, command_tag, object_type, object_identity, schema_name,
                                            jwt_sub, jwt_role, statement, statement_length, statement_hash)
        select 'ddl_command_end', c.command_tag, pg_catalog.lower(c.object_type), c.object_identity, c.schema_name,
               v_jwt_sub, v_jwt_role, v_statement, v_length, v_hash
        from (select c.command_tag, c.object_type, c.object_identity,
                     coalesce(c.schema_name, case when c.object_identity like '% on %' then drift_guard.ledger_identity_schema(c.object_identity) end) as schema_name
              from pg_catalog.pg_event_trigger_ddl_commands() c
              where not c.in_extension and c.object_type <> 'event trigger') c
        where (c.schema_name is null or not (c.schema_name in ('drift_guard', 'pg_toast') or c.schema_name like 'pg\_temp%'
                                             or c.schema_name like 'pg\_toast\_temp%' or c.schema_name = any (v_settings.skip_schemas)))
          and (c.object_type <> 'schema' or not (c.object_identity = 'drift_guard' or c.object_identity = any (v_settings.skip_schemas)))
          -- GRANT, REVOKE and ALTER DEFAULT PRIVILEGES carry no identity. Those of drift_guard's own
          -- install are known by the transaction-local setting every schema file sets, and only
          -- when the role is the schema's owner (who may change it anyway); never by the text.
          and (c.object_identity is not null or not v_installing);
      else
        insert into drift_guard.ddl_ledger (event, command_tag, object_type, object_identity, schema_name,
                                            jwt_sub, jwt_role, statement, statement_length, statement_hash)
        select 'sql_drop', tg_tag, pg_catalog.lower(d.object_type), d.object_identity, d.schema_name,
               v_jwt_sub, v_jwt_role, v_statement, v_length, v_hash
        from (select d.object_type, d.object_identity,
                     coalesce(d.schema_name, case when d.object_identity like '% on %' then drift_guard.ledger_identity_schema(d.object_identity) end) as schema_name
              from pg_catalog.pg_event_trigger_dropped_objects() d
              where d.original and not d.is_temporary and d.object_type <> 'event trigger') d
        where (d.schema_name is null or not (d.schema_name in ('drift_guard', 'pg_toast') or d.schema_name like 'pg\_temp%'
                                             or d.schema_name like 'pg\_toast\_temp%' or d.schema_name = any (v_settings.skip_schemas)))
          and (d.object_type <> 'schema' or not (d.object_identity = 'drift_guard' or d.object_identity = any (v_settings.skip_schemas)));
      end if;
    end if;
    -- Retention, about once per 1,000 DDL statements: no counter to keep, no lock to take.
    if pg_catalog.random() < 0.001 then
      perform drift_guard.ledger_prune();
    end if;
  exception when others then
    perform drift_guard.ledger_count_error(sqlstate, tg_event || ' ' || tg_tag || ': ' || sqlerrm);
  end;

  -- The history table may appear at any statement that creates or moves a table (the CLI
  -- creates it on its first push); other statements skip the catalog lookups.
  if tg_event = 'ddl_command_end' and tg_tag in ('CREATE TABLE', 'ALTER TABLE', 'CREATE SCHEMA', 'ALTER SCHEMA', 'CREATE TABLE AS', 'SELECT INTO') then
    begin
      v_history := pg_catalog.to_regclass('supabase_migrations.schema_migrations');
      if v_history is not null
         and not exists (select 1 from pg_catalog.pg_trigger t where t.tgrelid = v_history and t.tgname = 'drift_guard_history_writes') then
        perform drift_guard.ledger_attach_history_trigger();
      end if;
    exception when others then
      perform drift_guard.ledger_count_error(sqlstate, 'attach history trigger: ' || sqlerrm);
    end;
  end if;
end;
$$;


-- (Re)creates the ledger's event triggers. Needs a role that may create event triggers: on
-- Supabase `postgres` may (supautils); on plain Postgres, a superuser. Returns true.
create or replace function drift_guard.ledger_activate()
returns boolean
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
  drop event trigger if exists drift_guard_ledger_ddl;
  drop event trigger if exists drift_guard_ledger_drop;
  create event trigger drift_guard_ledger_ddl on ddl_command_end execute function drift_guard.ledger_record_ddl();
  create event trigger drift_guard_ledger_drop on sql_drop execute function drift_guard.ledger_record_ddl();
  return true;
end;
$$;

-- The event triggers, re-created on every install. A role that may not create them still gets
-- the rest of the ledger; ledger_status() then says inactive, and a role that may runs
-- `select drift_guard.ledger_activate();` later.
do $$
begin
  perform drift_guard.ledger_activate();
exception when insufficient_privilege then
  raise warning using
    message = 'drift_guard: this role may not create event triggers, so the DDL ledger is installed but inactive',
    hint = 'on Supabase the postgres role may (supautils); elsewhere run select drift_guard.ledger_activate(); as a superuser';
end;
$$;

do $$
begin
  perform drift_guard.ledger_attach_history_trigger();
exception when insufficient_privilege then
  raise warning 'drift_guard: cannot attach the history trigger to supabase_migrations.schema_migrations (not its owner); history writes are not recorded';
end;
$$;

-- ---------------------------------------------------------------------------
-- Reading, linking and acknowledging
-- ---------------------------------------------------------------------------

-- Whether the ledger is recording, and since when.
create or replace function drift_guard.ledger_status()
returns pg_catalog.jsonb
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  select pg_catalog.jsonb_build_object(
    'active', (select pg_catalog.count(*) = 2 from pg_catalog.pg_event_trigger e
               where e.evtname in ('drift_guard_ledger_ddl', 'drift_guard_ledger_drop') and e.evtenabled <> 'D'),
    'history_trigger', exists (select 1 from pg_catalog.pg_trigger t
               where t.tgname = 'drift_guard_history_writes'
                 and t.tgrelid = pg_catalog.to_regclass('supabase_migrations.schema_migrations')),
    'since', (select s.installed_at from drift_guard.ledger_settings s where s.id),
    'errors', (select h.errors from drift_guard.ledger_health h where h.id),
    'last_error_at', (select h.last_error_at from drift_guard.ledger_health h where h.id)
  )
$$;

-- Links untracked entries to the migration that creates their objects, as part of a repair.
-- p_links: [{ "version": "…", "objects": [{ "kind": "table", "schema": "public", "name": "t", "table": null }] }]
create or replace function drift_guard.ledger_link(p_audit_id pg_catalog.uuid, p_links pg_catalog.jsonb)
returns bigint
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_link pg_catalog.jsonb;
  v_object pg_catalog.jsonb;
  v_identity pg_catalog.text;
  v_pattern pg_catalog.text;
  v_kind pg_catalog.text;
  v_count bigint := 0;
  v_rows bigint;
begin
  if p_audit_id is null or not exists (select 1 from drift_guard.audit_log a where a.id = p_audit_id) then
    raise exception using errcode = 'DGN01', message = pg_catalog.format('no audit entry has id %s', p_audit_id);
  end if;
  if p_links is null or pg_catalog.jsonb_typeof(p_links) <> 'array' then
    raise exception using errcode = 'DGI01', message = 'links must be an array';
  end if;
  for v_link in select e.value from pg_catalog.jsonb_array_elements(p_links) e loop
    for v_object in select o.value from pg_catalog.jsonb_array_elements(coalesce(v_link -> 'objects', '[]'::pg_catalog.jsonb)) o loop
      v_kind := v_object ->> 'kind';
      v_identity := case
        when v_kind = 'schema' then pg_catalog.quote_ident(v_object ->> 'name')
        when v_kind in ('column') then pg_catalog.quote_ident(v_object ->> 'schema') || '.' || pg_catalog.quote_ident(v_object ->> 'table') || '.' || pg_catalog.quote_ident(v_object ->> 'name')
        when v_kind in ('policy', 'trigger') then pg_catalog.quote_ident(v_object ->> 'name') || ' on ' || pg_catalog.quote_ident(v_object ->> 'schema') || '.' || pg_catalog.quote_ident(v_object ->> 'table')
        else pg_catalog.quote_ident(v_object ->> 'schema') || '.' || pg_catalog.quote_ident(v_object ->> 'name')
      end;
      -- A function's identity carries its argument types: match the name up to "(".
      v_pattern := case when v_kind = 'function' then v_identity || '(' else null end;
      update drift_guard.ddl_ledger l
      set linked_version = v_link ->> 'version', linked_audit_id = p_audit_id
      where (l.linked_audit_id is null
             -- a link by a repair that was undone since no longer holds
             or exists (select 1 from drift_guard.audit_log a where a.id = l.linked_audit_id and a.undone_by is not null))
        and l.acked_audit_id is null
        and (l.object_identity = v_identity
             or (v_pattern is not null and pg_catalog.left(l.object_identity, pg_catalog.length(v_pattern)) = v_pattern)
             -- entries on a table's parts (its columns, policies, triggers) follow the table
             or (v_kind = 'table' and (pg_catalog.left(l.object_identity, pg_catalog.length(v_identity) + 1) = v_identity || '.'
                                       or l.object_identity like '% on ' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(v_identity, '\', '\\'), '%', '\%'), '_', '\_')))
            )
        and drift_guard.ledger_tracked_by(l.txid) is null;
      get diagnostics v_rows = row_count;
      v_count := v_count + v_rows;
    end loop;
  end loop;
  -- What the same statement did alongside (a table's primary-key index, its sequence) goes with it.
  update drift_guard.ddl_ledger l
  set linked_version = m.linked_version, linked_audit_id = p_audit_id
  from (select distinct on (k.txid, k.statement, k.statement_hash) k.txid, k.statement, k.statement_hash, k.linked_version
        from drift_guard.ddl_ledger k where k.linked_audit_id = p_audit_id order by k.txid, k.statement, k.statement_hash, k.id) m
  where l.txid = m.txid and l.statement = m.statement and l.statement_hash is not distinct from m.statement_hash
    and l.linked_audit_id is distinct from p_audit_id and l.acked_audit_id is null
    and (l.linked_audit_id is null
         or exists (select 1 from drift_guard.audit_log a where a.id = l.linked_audit_id and a.undone_by is not null));
  get diagnostics v_rows = row_count;
  v_count := v_count + v_rows;
  return v_count;
end;
$$;

-- Marks ledger entries reviewed, with an audit-log entry of kind 'ack' (the history is unchanged).
create or replace function drift_guard.ledger_ack(p_ids bigint[], p_reason pg_catalog.text, p_actor pg_catalog.jsonb)
returns pg_catalog.jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_digest pg_catalog.text;
  v_audit_id pg_catalog.uuid;
  v_missing bigint[];
  v_count bigint;
begin
  perform drift_guard.require_reason(p_reason);
  if p_ids is null or pg_catalog.cardinality(p_ids) = 0 then
    raise exception using errcode = 'DGI01', message = 'name at least one ledger entry id to acknowledge';
  end if;
  select pg_catalog.array_agg(i order by i) into v_missing
  from pg_catalog.unnest(p_ids) i
  where not exists (select 1 from drift_guard.ddl_ledger l where l.id = i);
  if v_missing is not null then
    raise exception using errcode = 'DGN01', message = pg_catalog.format('no ledger entry has id %s', pg_catalog.array_to_string(v_missing, ', ')),
      hint = 'drift-guard ledger lists the entries';
  end if;
  v_digest := drift_guard.history_digest();
  insert into drift_guard.audit_log (kind, actor, reason, plan, digest_before, digest_after, rows_before, rows_after)
  values ('ack', coalesce(p_actor, '{}'::pg_catalog.jsonb), p_reason,
          pg_catalog.jsonb_build_object('ack', pg_catalog.to_jsonb(p_ids), 'changes', '[]'::pg_catalog.jsonb),
          v_digest, v_digest, '[]'::pg_catalog.jsonb, '[]'::pg_catalog.jsonb)
  returning id into v_audit_id;
  update drift_guard.ddl_ledger l set acked_audit_id = v_audit_id
  where l.id = any (p_ids) and l.acked_audit_id is null;
  get diagnostics v_count = row_count;
  return pg_catalog.jsonb_build_object('audit_id', v_audit_id, 'acknowledged', v_count);
end;
$$;

-- Claims entries for one webhook delivery and returns the ids this caller may send: those not
-- yet alerted that no other check is delivering. Concurrent checks (one function instance or
-- several) each claim a disjoint set, so a change is sent once. A claim lapses after p_lease_ms,
-- so the entries of a check that died while delivering go out with a later one.
create or replace function drift_guard.ledger_claim_alert(p_ids bigint[], p_lease_ms int)
returns bigint[]
language sql
volatile
set search_path = pg_catalog, pg_temp
as $$
  with claimed as (
    update drift_guard.ddl_ledger l
    set alert_claimed_until = pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => greatest(p_lease_ms, 0) / 1000.0)
    where l.id = any (coalesce(p_ids, '{}'::bigint[])) and l.alerted_at is null
      and (l.alert_claimed_until is null or l.alert_claimed_until < pg_catalog.clock_timestamp())
    returning l.id)
  select coalesce(pg_catalog.array_agg(c.id order by c.id), '{}'::bigint[]) from claimed c
$$;

-- Releases a claim whose delivery failed: a later check sends these entries.
create or replace function drift_guard.ledger_release_alert(p_ids bigint[])
returns bigint
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_count bigint;
begin
  update drift_guard.ddl_ledger l set alert_claimed_until = null
  where l.id = any (coalesce(p_ids, '{}'::bigint[])) and l.alerted_at is null;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

-- Records that the alert for these entries was delivered, and counts them in ledger_health:
-- that counter, not a scan of the ledger, is what tells a cached report that alerts went out.
create or replace function drift_guard.ledger_mark_alerted(p_ids bigint[])
returns bigint
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
  v_count bigint;
begin
  perform pg_catalog.set_config('drift_guard.marking_alerted', 'on', true);
  update drift_guard.ddl_ledger l set alerted_at = pg_catalog.now(), alert_claimed_until = null
  where l.id = any (coalesce(p_ids, '{}'::bigint[])) and l.alerted_at is null;
  get diagnostics v_count = row_count;
  perform pg_catalog.set_config('drift_guard.marking_alerted', '', true);
  if v_count > 0 then
    update drift_guard.ledger_health h set alerted_entries = h.alerted_entries + v_count where h.id;
  end if;
  return v_count;
end;
$$;

insert into drift_guard.schema_version (version) values ('20251202000400') on conflict (version) do nothing;
