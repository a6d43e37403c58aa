-- drift-guard's uploaded manifests, kept as history: the newest is the highest id.
--
-- Idempotent, like every file of the schema (see 20251101000000_drift_guard.sql, which
-- lists the parts). Runs after 20251101000000, which creates the schema.

-- Marks this transaction as drift_guard's own install, so that the DDL ledger does not record
-- its GRANTs and REVOKEs (only for the schema's owner; transaction-local, gone at commit).
select pg_catalog.set_config('drift_guard.installing', 'on', true);

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

alter table drift_guard.manifests enable row level security;

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

insert into drift_guard.schema_version (version) values ('20251101000400') on conflict (version) do nothing;
