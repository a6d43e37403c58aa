-- drift-guard's API tokens for the migration-drift function: only the hash of each secret
-- is stored. Revoking names the token explicitly, by id (uuid or public id) or by label.
--
-- Idempotent, like every file of the schema (see 20251101000000_drift_guard.sql, which
-- lists the parts). Runs after 20251101000000, which creates the schema.

-- Marks this transaction as drift_guard's own install, so that the DDL ledger does not record
-- its GRANTs and REVOKEs (only for the schema's owner; transaction-local, gone at commit).
select pg_catalog.set_config('drift_guard.installing', 'on', true);

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

alter table drift_guard.tokens enable row level security;

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

-- Every GRANT, REVOKE and POLICY is in 20251204000900_drift_guard_privileges.sql, which runs last.

insert into drift_guard.schema_version (version) values ('20251101000300') on conflict (version) do nothing;
