/**
 * The embedded shadow starts as the live platform is: realistic projects, each
 * pushed with the real Supabase CLI onto a platform-shaped PostgreSQL 15 that
 * has what hosted Supabase has and the plain stand-ins lack (auth.sessions and
 * auth.mfa_factors, Database Webhooks' supabase_functions.http_request, pgmq's
 * functions, a pg_tle-like extension that fixes its schema, Debian's pg_cron),
 * then compared with `schema-diff` on the default embedded shadow.
 */
import { appendFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "./harness/database.ts";
import { DUMP_PREAMBLE } from "./harness/dump_style.ts";
import { type PlatformServer, startPlatformPostgres } from "./harness/platform_postgres.ts";
import { schemaDiff, summaryOf } from "./harness/schema_diff_cli.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

/** A pg_tle-like extension: its control file fixes its schema, which it creates itself. */
const TLE_FILES = [
  { path: "pg_tle.control", text: "comment = 'test platform pg_tle'\ndefault_version = '1.4.0'\nrelocatable = false\nschema = pgtle\n" },
  {
    path: "pg_tle--1.4.0.sql",
    text: `create function pgtle.install_extension(name text, version text, description text, ext text, requires text[] default null) returns boolean language sql as 'select true';
create function pgtle.available_extensions() returns table (name text, default_version text, comment text) language sql as 'select null::text, null::text, null::text where false';
`,
  },
];

/** What hosted Supabase has in its platform schemas that supabase/shadow/'s stand-ins do not. */
const HOSTED_EXTRAS = `
create type auth.factor_type as enum ('totp', 'webauthn', 'phone');
create type auth.factor_status as enum ('unverified', 'verified');
create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
create table auth.sessions (id uuid primary key, user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz, updated_at timestamptz, aal auth.aal_level, not_after timestamptz, user_agent text);
create table auth.mfa_factors (id uuid primary key, user_id uuid not null references auth.users (id) on delete cascade, friendly_name text,
  factor_type auth.factor_type not null, status auth.factor_status not null, created_at timestamptz not null, updated_at timestamptz not null, secret text);
create schema supabase_functions;
create table supabase_functions.hooks (id bigserial primary key, hook_table_id integer not null, hook_name text not null,
  created_at timestamptz not null default now(), request_id bigint);
create function supabase_functions.http_request() returns trigger language plpgsql security definer set search_path = supabase_functions as $f$
begin
  insert into supabase_functions.hooks (hook_table_id, hook_name) values (tg_relid, tg_name);
  return new;
end $f$;
create schema pgmq;
create table pgmq.meta (queue_name varchar unique not null, is_partitioned boolean not null, is_unlogged boolean not null, created_at timestamptz not null default now());
create function pgmq.create(queue_name text) returns void language plpgsql as $f$
begin
  execute format('create table if not exists pgmq.%I (msg_id bigint generated always as identity primary key, message jsonb)', 'q_' || queue_name);
  insert into pgmq.meta values (queue_name, false, false, now()) on conflict do nothing;
end $f$;
create function pgmq.send(queue_name text, msg jsonb, delay integer default 0) returns setof bigint language sql as $f$ select 1::bigint $f$;
grant usage on schema supabase_functions, pgmq to postgres, anon, authenticated, service_role;
`;

let platform: PlatformServer;
let cronDatabase: Awaited<ReturnType<PlatformServer["database"]>>;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  platform = await startPlatformPostgres({ extensionFiles: TLE_FILES });
  // Debian's pg_cron needs preloading and names its one database: restart once, before any test connects.
  cronDatabase = await platform.database("cron_live");
  await cronDatabase.sql.end({ timeout: 1 });
  // pg_cron's settings are unknown until it is loaded, so ALTER SYSTEM refuses them: the server's own file takes them.
  appendFileSync(join(platform.server.dataDir, "postgresql.conf"), `\nshared_preload_libraries = 'pg_cron'\ncron.database_name = '${cronDatabase.name}'\n`);
  platform.server.stop();
  platform.server.start();
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  platform?.destroy();
});

/** A platform-shaped database with the hosted extras, the migrations pushed by the Supabase CLI. */
async function pushed(files: Record<string, string>, before = ""): Promise<{ url: string; dir: string; sql: postgres.Sql }> {
  const live = await platform.database("live");
  cleanups.push(() => live.drop());
  await live.sql.unsafe(HOSTED_EXTRAS + before);
  const dir = makeProject(files);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  supabasePush(`${live.url}?sslmode=disable`, dir);
  return { url: live.url, dir, sql: live.sql };
}

function expectCleanRun(r: Awaited<ReturnType<typeof schemaDiff>>) {
  expect({ stderr: r.stderr, status: r.status, differences: r.json?.schema ? summaryOf(r.json) : r.json }).toEqual({ stderr: "", status: 0, differences: [] });
}

const messages = (r: Awaited<ReturnType<typeof schemaDiff>>) => (r.json?.problems ?? []).map((p: { message: string }) => p.message).join("\n");

describe("the embedded shadow has the live platform's skeleton", () => {
  it("foreign keys to auth.users, auth.identities, auth.sessions and auth.mfa_factors replay", async () => {
    const { url, dir } = await pushed({
      "20240101000000_profiles.sql": `create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text unique,
  created_at timestamptz not null default now()
);
alter table public.profiles enable row level security;
create policy "own profile" on public.profiles for select to authenticated using ((select auth.uid()) = id);`,
      "20240102000000_linked_accounts.sql": `create table public.linked_accounts (
  id uuid primary key default gen_random_uuid(),
  identity_id uuid not null references auth.identities (id) on delete cascade,
  provider text not null
);
create index linked_accounts_identity_idx on public.linked_accounts (identity_id);`,
      "20240103000000_session_audit.sql": `create table public.session_audit (
  session_id uuid references auth.sessions (id) on delete cascade,
  factor_id uuid references auth.mfa_factors (id) on delete set null,
  seen_at timestamptz not null default now()
);
alter table public.session_audit enable row level security;`,
    });
    expectCleanRun(await schemaDiff(["--db-url", url, "--format", "json"], dir));
  });

  it("a Database Webhook trigger executing supabase_functions.http_request(...) replays, embedded and on a bare --shadow-url", async () => {
    const { url, dir } = await pushed({
      "20240101000000_orders.sql": `create table public.orders (id bigint generated by default as identity primary key, status text not null default 'new', total numeric(10,2));
alter table public.orders enable row level security;`,
      "20240102000000_order_webhook.sql": `create trigger "order_created" after insert or update on "public"."orders" for each row
execute function "supabase_functions"."http_request"('https://example.invalid/functions/v1/order-hook', 'POST', '{"Content-type":"application/json"}', '{}', '5000');`,
    });
    expectCleanRun(await schemaDiff(["--db-url", url, "--format", "json"], dir));
    const bare = await createTestDatabase("sdps_bare");
    cleanups.push(() => bare.drop());
    expectCleanRun(await schemaDiff(["--db-url", url, "--shadow-url", bare.url, "--format", "json"], dir));
  });

  it("select pgmq.create('jobs') and a function over pgmq.send replay", async () => {
    const { url, dir } = await pushed({
      "20240101000000_queue.sql": `select pgmq.create('jobs');
create function public.enqueue_job(payload jsonb) returns bigint language sql security definer set search_path = '' as $$
  select * from pgmq.send('jobs', payload)
$$;
revoke execute on function public.enqueue_job(jsonb) from anon;`,
      "20240102000000_jobs_table.sql": "create table public.job_runs (id bigint generated always as identity primary key, queued_at timestamptz default now());",
    });
    expectCleanRun(await schemaDiff(["--db-url", url, "--format", "json"], dir));
  });

  it("a trigger guarded by to_regclass('auth.mfa_factors') is created in the shadow as it was live: no extra trigger", async () => {
    const { url, dir, sql } = await pushed({
      "20240101000000_mfa_events.sql": `create table public.mfa_events (id bigint generated always as identity primary key, user_id uuid, at timestamptz default now());
create function public.log_mfa_factor() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.mfa_events (user_id) values (new.user_id);
  return new;
end $$;`,
      "20240102000000_mfa_trigger.sql": `do $$
begin
  if to_regclass('auth.mfa_factors') is not null then
    create trigger on_mfa_factor_created after insert on auth.mfa_factors for each row execute function public.log_mfa_factor();
  end if;
end $$;`,
    });
    expect((await sql`select count(*)::int as n from pg_trigger where tgname = 'on_mfa_factor_created'`)[0].n).toBe(1);
    expectCleanRun(await schemaDiff(["--db-url", url, "--format", "json"], dir));
  });

  it("an unqualified uuid_generate_v4() after a dump's set_config('search_path', '', false) replays: each migration starts from the database's search_path", async () => {
    const { url, dir } = await pushed({
      "20240101000000_remote_schema.sql": `${DUMP_PREAMBLE}CREATE TABLE IF NOT EXISTS "public"."accounts" (
    "id" "uuid" DEFAULT "extensions"."uuid_generate_v4"() NOT NULL,
    "created_at" timestamp with time zone DEFAULT "now"() NOT NULL
);
ALTER TABLE ONLY "public"."accounts" ADD CONSTRAINT "accounts_pkey" PRIMARY KEY ("id");
`,
      "20240102000000_notes.sql": `create table public.notes (
  id uuid primary key default uuid_generate_v4(),
  account_id uuid references public.accounts (id),
  body text
);`,
    });
    const r = await schemaDiff(["--db-url", url, "--format", "json"], dir);
    expect(r.json?.error?.message ?? "").not.toMatch(/own error/);
    expectCleanRun(r);
  });

  it("an extension the same file creates, whose control file fixes its schema, needs no repair and no 'db reset would fail' warning", async () => {
    const { url, dir } = await pushed({
      "20240101000000_tle.sql": `select pg_catalog.set_config('search_path', '', false);
create extension if not exists pg_tle;
select pgtle.install_extension('app_helpers', '1.0', 'helpers for the app', $_tle_$ create function app_version() returns text language sql as $$ select '1.0' $$ $_tle_$);`,
      "20240102000000_settings.sql": "create table public.app_settings (key text primary key, value jsonb not null default '{}');",
    });
    const r = await schemaDiff(["--db-url", url, "--format", "json"], dir);
    expectCleanRun(r);
    expect(messages(r)).not.toMatch(/would fail here/);
    expect(messages(r)).not.toMatch(/needed a fix/);
  });
});

describe("extensions: Debian's pg_cron and schemas that differ", () => {
  it("create extension if not exists pg_cron with schema extensions replays (the stand-in does not force pg_catalog), jobs scheduled", async () => {
    const live = cronDatabase;
    const sql = postgres(live.url, { onnotice: () => {}, max: 1 });
    cleanups.push(async () => void (await sql.end({ timeout: 1 })));
    await sql.unsafe(HOSTED_EXTRAS);
    const dir = makeProject({
      "20240101000000_events.sql": "create table public.events (id bigint generated always as identity primary key, created_at timestamptz not null default now());",
      "20240102000000_cron.sql": `create extension if not exists pg_cron with schema extensions;
grant usage on schema cron to postgres;
select cron.schedule('nightly-cleanup', '0 3 * * *', $$delete from public.events where created_at < now() - interval '30 days'$$);`,
    });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    supabasePush(`${live.url}?sslmode=disable`, dir);
    expect((await sql`select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_cron'`)[0].nspname).toBe("extensions");
    const r = await schemaDiff(["--db-url", live.url, "--format", "json"], dir);
    expectCleanRun(r);
    expect(messages(r)).toMatch(/extension pg_cron \(schema extensions\) is a stand-in/);
  });

  it("an extension in another schema live than the migration says is a schema difference, and the suggested alter extension … set schema converges", async () => {
    const files = {
      "20240101000000_search.sql": `create extension if not exists pg_trgm with schema extensions;
create table public.articles (id bigint generated always as identity primary key, title text not null);
create index articles_title_trgm on public.articles using gin (title gin_trgm_ops);`,
    };
    // Enabled from the dashboard in public, long before the migration was written: the migration's statement was a no-op live.
    const { url, dir } = await pushed(files, "create extension pg_trgm with schema public;");
    const r = await schemaDiff(["--db-url", url, "--format", "json"], dir);
    expect(r.stderr).toBe("");
    // The index's operator class lives in the extension's schema, so its definition differs with it.
    expect(summaryOf(r.json)).toEqual([["changed", "extension", "pg_trgm", ["schema"]], ["changed", "index", "public.articles_title_trgm", ["definition"]]]);
    expect(r.json.suggested_migration.sql).toContain("alter extension pg_trgm set schema public;");
    expect(r.json.suggested_migration.sql).not.toMatch(/create extension/);
    // Recorded as a migration, the suggestion makes the shadow match live.
    const converged = makeProject({ ...files, "20240102000000_schema_drift.sql": r.json.suggested_migration.sql });
    cleanups.push(() => rmSync(converged, { recursive: true, force: true }));
    expectCleanRun(await schemaDiff(["--db-url", url, "--format", "json"], converged));
  });
});
