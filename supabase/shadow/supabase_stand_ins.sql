-- drift-guard schema-diff: Supabase stand-ins for the shadow database.
--
-- `drift-guard schema-diff` replays supabase/migrations into a shadow database
-- (embedded PGlite, or an empty Postgres given with --shadow-url) and compares
-- its catalog with the live database. Migrations written for Supabase lean on
-- objects the platform creates before any migration runs. This file creates
-- just enough of them for those migrations to replay:
--
--   roles      anon, authenticated, service_role, authenticator
--   schemas    extensions, auth, storage (and, when the live database has
--              them, graphql, graphql_public, vault, realtime…: see db/shadow/bootstrap.ts)
--   extensions the platform preinstalls (uuid-ossp, pgcrypto, pgjwt, pg_graphql,
--              supabase_vault…) are created after this file, as the live database
--              has them; stand-ins where the shadow lacks one (db/extension_stand_ins.ts)
--   auth       auth.users, auth.uid(), auth.jwt(), auth.role(), auth.email()
--   storage    storage.buckets, storage.objects (RLS on, as on the platform),
--              storage.foldername(), storage.filename(), storage.extension()
--   realtime   the supabase_realtime publication (empty)
--   public     on a Supabase platform database only (drift-guard sets
--              drift_guard.supabase_platform = 'on' when supabase_admin owns
--              objects in the live database): the usage grants every project
--              starts with, `grant usage on schema public to postgres, anon,
--              authenticated, service_role`
--
-- These are stand-ins, not copies: the platform's own auth and storage tables
-- have more columns, which the live platform's skeleton adds after this file
-- (shared/platform_skeleton.ts) when schema-diff can read the live database. That does not matter for the comparison, because auth,
-- storage and extensions are excluded from it by default; only policies and
-- triggers that migrations attach to auth/storage tables are compared.
--
-- Idempotent, and it never replaces anything that exists: a real Postgres
-- shadow may already have these roles (roles are cluster-wide) or a full
-- Supabase auth schema. It runs before the first migration, in the same session.
--
-- drift-guard also copies two facts from the live database into the shadow,
-- because they shape what migrations build but are platform settings, not
-- migrations: the default privileges of the role that runs migrations
-- (Supabase grants anon/authenticated/service_role on new public objects) and
-- that role's search_path (Supabase: "$user", public, extensions).

do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then create role anon nologin noinherit; end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then create role authenticated nologin noinherit; end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then create role service_role nologin noinherit bypassrls; end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then create role authenticator nologin noinherit; end if;
end
$$;

create schema if not exists extensions;
create schema if not exists auth;
create schema if not exists storage;

do $$
begin
  grant usage on schema extensions, auth, storage to anon, authenticated, service_role;
exception when insufficient_privilege then
  null; -- an existing Supabase database: the platform granted these already
end
$$;

create table if not exists auth.users (
  instance_id uuid,
  id uuid primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  phone text,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  is_anonymous boolean not null default false,
  created_at timestamptz,
  updated_at timestamptz,
  last_sign_in_at timestamptz,
  deleted_at timestamptz
);

do $$
begin
  if pg_catalog.to_regprocedure('auth.uid()') is null then
    execute $f$
      create function auth.uid() returns uuid language sql stable as $b$
        select coalesce(
          nullif(current_setting('request.jwt.claim.sub', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        )::uuid
      $b$ $f$;
  end if;
  if pg_catalog.to_regprocedure('auth.role()') is null then
    execute $f$
      create function auth.role() returns text language sql stable as $b$
        select coalesce(
          nullif(current_setting('request.jwt.claim.role', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
        )::text
      $b$ $f$;
  end if;
  if pg_catalog.to_regprocedure('auth.email()') is null then
    execute $f$
      create function auth.email() returns text language sql stable as $b$
        select coalesce(
          nullif(current_setting('request.jwt.claim.email', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
        )::text
      $b$ $f$;
  end if;
  if pg_catalog.to_regprocedure('auth.jwt()') is null then
    execute $f$
      create function auth.jwt() returns jsonb language sql stable as $b$
        select coalesce(
          nullif(current_setting('request.jwt.claim', true), ''),
          nullif(current_setting('request.jwt.claims', true), '')
        )::jsonb
      $b$ $f$;
  end if;
end
$$;

create table if not exists storage.buckets (
  id text primary key,
  name text not null,
  owner uuid,
  owner_id text,
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

create table if not exists storage.objects (
  id uuid primary key default gen_random_uuid(),
  bucket_id text references storage.buckets (id),
  name text,
  owner uuid,
  owner_id text,
  metadata jsonb,
  user_metadata jsonb,
  path_tokens text[] generated always as (pg_catalog.string_to_array(name, '/')) stored,
  version text,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now()
);

do $$
begin
  alter table storage.buckets enable row level security;
  alter table storage.objects enable row level security;
exception when insufficient_privilege then
  null; -- an existing Supabase database: the platform owns these tables
end
$$;

do $$
begin
  if pg_catalog.to_regprocedure('storage.foldername(text)') is null then
    execute $f$
      create function storage.foldername(name text) returns text[] language plpgsql immutable as $b$
      declare
        _parts text[];
      begin
        select pg_catalog.string_to_array(name, '/') into _parts;
        return _parts[1 : pg_catalog.array_length(_parts, 1) - 1];
      end
      $b$ $f$;
  end if;
  if pg_catalog.to_regprocedure('storage.filename(text)') is null then
    execute $f$
      create function storage.filename(name text) returns text language plpgsql immutable as $b$
      declare
        _parts text[];
      begin
        select pg_catalog.string_to_array(name, '/') into _parts;
        return _parts[pg_catalog.array_length(_parts, 1)];
      end
      $b$ $f$;
  end if;
  if pg_catalog.to_regprocedure('storage.extension(text)') is null then
    execute $f$
      create function storage.extension(name text) returns text language plpgsql immutable as $b$
      declare
        _parts text[];
        _filename text;
      begin
        select pg_catalog.string_to_array(name, '/') into _parts;
        select _parts[pg_catalog.array_length(_parts, 1)] into _filename;
        return pg_catalog.reverse(pg_catalog.split_part(pg_catalog.reverse(_filename), '.', 1));
      end
      $b$ $f$;
  end if;
end
$$;

-- Realtime: migrations add tables to this publication (`alter publication
-- supabase_realtime add table …`). Publications need no logical decoding to exist.
do $$
begin
  if not exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
exception when insufficient_privilege then
  null;
end
$$;

-- The public schema's grants on a Supabase project, before any migration.
do $$
begin
  if pg_catalog.current_setting('drift_guard.supabase_platform', true) = 'on' then
    grant usage on schema public to postgres, anon, authenticated, service_role;
  end if;
exception when insufficient_privilege or undefined_object then
  null;
end
$$;
