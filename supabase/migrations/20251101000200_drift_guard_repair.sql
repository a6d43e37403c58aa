-- drift-guard's repairs: apply_repair and undo_repair, the one way drift-guard writes
-- supabase_migrations.schema_migrations, each under the repair lock, pinned to the history
-- digest it was planned against, and audited (20251101000100_drift_guard_audit_log.sql).
--
-- Idempotent, like every file of the schema (see 20251101000000_drift_guard.sql, which
-- lists the parts). Runs after 20251101000000, which creates the schema.

-- Marks this transaction as drift_guard's own install, so that the DDL ledger does not record
-- its GRANTs and REVOKEs (only for the schema's owner; transaction-local, gone at commit).
select pg_catalog.set_config('drift_guard.installing', 'on', true);

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

-- ---------------------------------------------------------------------------
-- apply_repair: the one way drift-guard writes the history
--
-- Set-based: the history is written with one DELETE, one UPDATE and one INSERT, and
-- the audit rows are built by aggregates, so time is linear in the rows. Growing a jsonb
-- array with || in a loop copies the whole array each time: quadratic, and a 5,000-row
-- undo built that way runs past the function's statement timeout.
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

-- Every GRANT, REVOKE and POLICY is in 20251204000900_drift_guard_privileges.sql, which runs last.

insert into drift_guard.schema_version (version) values ('20251101000200') on conflict (version) do nothing;
