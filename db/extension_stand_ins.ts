/**
 * Stand-ins for extensions a shadow database lacks (PGlite has no pg_net,
 * pg_graphql, pgjwt, supabase_vault, pg_cron…; a plain Postgres lacks them too).
 *
 * A stand-in lets replay go on where the platform has the extension: it has
 * the extension's name (so `create extension`, `drop extension`, `alter
 * extension` and the extension comparison behave as on the platform), its
 * schema, and stubs of the functions and tables migrations most often use
 * (net.http_post, cron.schedule, vault.create_secret, extensions.sign…). The
 * stubs never do anything; they exist so that functions, triggers and cron
 * jobs that call them can be created. Every use of a stand-in is reported.
 *
 * On the embedded shadow a stand-in is a real extension: a control file and a
 * script written into PGlite's in-memory file system before it starts, so it
 * also works inside DO blocks and functions. On a --shadow-url database (whose
 * files we cannot write) the script runs in place of a top-level `create
 * extension` statement, and the stand-in is remembered in a temporary table.
 */
import { DriftGuardError } from "../shared/types.ts";

/**
 * The Supabase stand-ins script the shadow runs before replay. Resolved from a
 * module one folder below the package root: the CLI's bundle (dist/cli.js) sits
 * at the same depth, so the path holds in a checkout and in the package alike.
 */
export const STAND_INS_PATH = new URL("../supabase/shadow/supabase_stand_ins.sql", import.meta.url);

/** Objects `@extschema@` stands for the schema the extension is created in. */
interface StandInDefinition {
  /** The schema the real extension's control file fixes (`create extension` may not choose another). */
  schema?: string;
  /** Stubs, created as members of the stand-in. */
  script: string;
}

const NOOP_ID = "select null::bigint";

const DEFINITIONS: Record<string, StandInDefinition> = {
  pgjwt: {
    script: `
create function @extschema@.url_encode(data bytea) returns text language sql immutable as $$ select null::text $$;
create function @extschema@.url_decode(data text) returns bytea language sql immutable as $$ select null::bytea $$;
create function @extschema@.algorithm_sign(signables text, secret text, algorithm text) returns text language sql immutable as $$ select null::text $$;
create function @extschema@.sign(payload json, secret text, algorithm text default 'HS256') returns text language sql immutable as $$ select null::text $$;
create function @extschema@.try_cast_double(inp text) returns double precision language sql immutable as $$ select null::double precision $$;
create function @extschema@.verify(token text, secret text, algorithm text default 'HS256') returns table (header json, payload json, valid boolean)
  language sql immutable as $$ select null::json, null::json, false where false $$;`,
  },
  pg_net: {
    script: `
do $$ begin if pg_catalog.to_regnamespace('net') is null then create schema net; end if; end $$;
create table net.http_request_queue (id bigserial, method text, url text, headers jsonb, body bytea, timeout_milliseconds integer);
create table net._http_response (id bigint, status_code integer, content_type text, headers jsonb, content text, timed_out boolean, error_msg text, created timestamptz not null default now());
create function net.http_get(url text, params jsonb default '{}', headers jsonb default '{}', timeout_milliseconds integer default 5000) returns bigint language sql as $$ ${NOOP_ID} $$;
create function net.http_post(url text, body jsonb default '{}', params jsonb default '{}', headers jsonb default '{"Content-Type": "application/json"}', timeout_milliseconds integer default 5000) returns bigint language sql as $$ ${NOOP_ID} $$;
create function net.http_delete(url text, params jsonb default '{}', headers jsonb default '{}', timeout_milliseconds integer default 5000) returns bigint language sql as $$ ${NOOP_ID} $$;`,
  },
  pg_graphql: {
    schema: "graphql",
    script: `
create function @extschema@.resolve("query" text, variables jsonb default '{}', "operationName" text default null, extensions jsonb default null) returns jsonb language sql as $$ select null::jsonb $$;
create function @extschema@.comment_directive(comment_ text) returns jsonb language sql immutable as $$ select null::jsonb $$;`,
  },
  supabase_vault: {
    schema: "vault",
    script: `
create table @extschema@.secrets (id uuid primary key, name text, description text not null default '', secret text not null, key_id uuid, nonce bytea, created_at timestamptz not null default now(), updated_at timestamptz not null default now());
create view @extschema@.decrypted_secrets as select s.*, s.secret as decrypted_secret from @extschema@.secrets s;
create function @extschema@.create_secret(new_secret text, new_name text default null, new_description text default '', new_key_id uuid default null) returns uuid language sql as $$ select null::uuid $$;
create function @extschema@.update_secret(secret_id uuid, new_secret text default null, new_name text default null, new_description text default null, new_key_id uuid default null) returns void language sql as $$ select $$;`,
  },
  // No fixed schema: Debian's pg_cron (like the one on a self-hosted server) takes the schema the statement names.
  pg_cron: {
    script: `
do $$ begin if pg_catalog.to_regnamespace('cron') is null then create schema cron; end if; end $$;
create table cron.job (jobid bigserial primary key, schedule text not null, command text not null, nodename text not null default 'localhost', nodeport integer not null default 5432, database text not null default current_database(), username text not null default current_user, active boolean not null default true, jobname text);
create function cron.schedule(schedule text, command text) returns bigint language sql as $$ ${NOOP_ID} $$;
create function cron.schedule(job_name text, schedule text, command text) returns bigint language sql as $$ ${NOOP_ID} $$;
create function cron.unschedule(job_id bigint) returns boolean language sql as $$ select true $$;
create function cron.unschedule(job_name text) returns boolean language sql as $$ select true $$;`,
  },
  pg_jsonschema: {
    script: `
create function @extschema@.json_matches_schema(schema json, instance json) returns boolean language sql immutable as $$ select true $$;
create function @extschema@.jsonb_matches_schema(schema json, instance jsonb) returns boolean language sql immutable as $$ select true $$;`,
  },
  pg_hashids: {
    script: `
create function @extschema@.id_encode(bigint) returns text language sql immutable as $$ select null::text $$;
create function @extschema@.id_encode(bigint, text) returns text language sql immutable as $$ select null::text $$;
create function @extschema@.id_decode(text) returns bigint[] language sql immutable as $$ select null::bigint[] $$;`,
  },
};

/** Extension names and versions are written into file names: only plain ones. */
const SAFE_NAME = /^[a-z_][a-z0-9_-]{0,62}$/i;
const SAFE_VERSION = /^[A-Za-z0-9_.]{1,32}$/;

export const STAND_IN_COMMENT = "drift-guard stand-in";

/** Whether a stand-in can be made for this extension name. */
export function canStandIn(name: string): boolean {
  return SAFE_NAME.test(name) && name !== "plpgsql";
}

/** The schema a stand-in must live in when the real extension fixes it (pg_graphql: graphql), else null. */
export function fixedStandInSchema(name: string): string | null {
  return DEFINITIONS[name]?.schema ?? null;
}

/** Whether the stand-in has stubs of the extension's functions (else it is the name and schema only). */
export function hasStubs(name: string): boolean {
  return name in DEFINITIONS;
}

/**
 * The stand-in's script. `@extschema@` is left for Postgres to fill in (embedded)
 * or replaced by the caller (--shadow-url).
 * @example standInScript("pgjwt").includes("@extschema@.sign(") // true
 */
export function standInScript(name: string): string {
  return DEFINITIONS[name]?.script.trim() ?? "";
}

/** What the live database says of an extension a stand-in takes the place of (shared/platform_skeleton.ts). */
export interface LiveStandIn {
  /** The members' stubs, from the live catalog; else the hand-written stubs above. */
  script?: string;
  /** The schema the live extension made itself (pg_tle: pgtle), fixed in the control file as the real one fixes it. */
  schema?: string | null;
}

/**
 * Control file and install scripts of a stand-in, as PGlite's file system holds
 * them: one script per version a migration or the live database names.
 * @example standInFiles("pg_net", ["0.14.0"])[0].path // "pg_net.control"
 */
export function standInFiles(name: string, versions: readonly string[], live: LiveStandIn = {}): Array<{ path: string; text: string }> {
  if (!canStandIn(name)) throw new DriftGuardError("internal", `no stand-in can be made for extension ${JSON.stringify(name)}`);
  const safe = [...new Set(versions.filter((v) => SAFE_VERSION.test(v)))];
  const all = safe.length ? safe : ["1.0"];
  const schema = live.schema && SAFE_NAME.test(live.schema) ? live.schema : fixedStandInSchema(name);
  const control = [
    `comment = '${STAND_IN_COMMENT}: the shadow lacks ${name}'`,
    `default_version = '${all[0]}'`,
    "relocatable = false",
    ...(schema ? [`schema = ${schema}`] : []),
  ].join("\n") + "\n";
  const script = (live.script || standInScript(name)) + "\n";
  return [{ path: `${name}.control`, text: control }, ...all.map((v) => ({ path: `${name}--${v}.sql`, text: script }))];
}
