/**
 * schema-diff on Supabase-shaped projects (issue 13): every migration set is pushed with the real
 * Supabase CLI onto a PostgreSQL 15 that has what a hosted project has before its first migration
 * (tests/harness/platform_postgres.ts), then compared with both shadows:
 *  - embedded (PGlite);
 *  - --shadow-url, a bare database (createdb: no platform schemas, no platform extensions);
 *  - --shadow-url, a platform-shaped database (what `supabase start` makes before migrations).
 * Each failure kind of the issue has its reduction here; each fails on the code before the fix.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "./harness/database.ts";
import type { InProcessResult } from "./harness/cli_in_process.ts";
import { schemaDiff, summaryOf } from "./harness/schema_diff_cli.ts";
import { type PlatformServer, startPlatformPostgres } from "./harness/platform_postgres.ts";
import { DUMP_PREAMBLE } from "./harness/dump_style.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";
import { OBJECT_KINDS } from "../shared/schema_diff.ts";


let platform: PlatformServer;
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  platform = await startPlatformPostgres();
}, 120_000);
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  platform?.destroy();
});


/** A platform-shaped live database with the migrations pushed by the Supabase CLI. */
async function pushed(files: Record<string, string>): Promise<{ live: Awaited<ReturnType<PlatformServer["database"]>>; dir: string }> {
  const live = await platform.database("live");
  cleanups.push(() => live.drop());
  const dir = makeProject(files);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  supabasePush(live.url, dir);
  return { live, dir };
}

/** --shadow-url targets: a bare database on the plain server, and a platform-shaped one. */
async function bareShadow(): Promise<string> {
  const db = await createTestDatabase("sdp_bare");
  cleanups.push(() => db.drop());
  return db.url;
}
async function platformShadow(): Promise<string> {
  const db = await platform.database("shadow");
  cleanups.push(() => db.drop());
  return db.url;
}

/** All three shadows: each result, labelled. */
async function everyShadow(liveUrl: string, dir: string, extra: string[] = []): Promise<Array<[string, InProcessResult & { json: any }]>> {
  return [
    ["embedded", await schemaDiff(["--db-url", liveUrl, "--format", "json", ...extra], dir)],
    ["bare --shadow-url", await schemaDiff(["--db-url", liveUrl, "--shadow-url", await bareShadow(), "--format", "json", ...extra], dir)],
    ["platform --shadow-url", await schemaDiff(["--db-url", liveUrl, "--shadow-url", await platformShadow(), "--format", "json", ...extra], dir)],
  ];
}

function expectInSync(results: Array<[string, InProcessResult & { json: any }]>) {
  for (const [label, r] of results) {
    expect({ label, stderr: r.stderr, status: r.status, differences: r.json?.schema ? summaryOf(r.json) : r.json }).toEqual({ label, stderr: "", status: 0, differences: [] });
  }
}

describe("1. extensions the platform preinstalls", () => {
  it("a migration that uses uuid-ossp and pgcrypto without creating them replays on every shadow", async () => {
    const { live, dir } = await pushed({
      "20250101000000_items.sql": "create table public.items (id uuid primary key default uuid_generate_v4(), token text default encode(gen_random_bytes(8),'hex'));",
    });
    const results = await everyShadow(live.url, dir);
    expectInSync(results);
    // PGlite and the bare database lack pgjwt, pg_graphql and supabase_vault: stand-ins, each a warning.
    for (const [, r] of results.slice(0, 2)) {
      expect(r.json.problems.map((p: any) => p.message).join("\n")).toMatch(/extension pg_graphql \(schema graphql\) is a stand-in/);
    }
    // The platform-shaped shadow has them all.
    expect(results[2][1].json.problems).toEqual([]);
  });
});

describe("2. extension statements in any position", () => {
  it("an extension created inside a DO block (with an exception handler) is loaded: no extra trigger", async () => {
    const { live, dir } = await pushed({
      "20250101000000_r.sql": `create table public.r (id int primary key, updated_at timestamptz);
do $$ begin
  create extension if not exists moddatetime schema extensions;
  create trigger r_mod before update on public.r for each row execute function moddatetime(updated_at);
exception when others then raise notice 'skipped: %', sqlerrm; end $$;`,
    });
    expect((await live.sql`select count(*)::int as n from pg_trigger where tgname = 'r_mod'`)[0].n).toBe(1);
    expectInSync(await everyShadow(live.url, dir));
  });

  it("an extension created inside a function body, with schema and version options", async () => {
    const { live, dir } = await pushed({
      "20250101000000_setup.sql": `create function public.setup() returns void language plpgsql as $fn$
begin
  execute $x$create extension if not exists pg_trgm with schema extensions version '1.6'$x$;
end $fn$;
select public.setup();
create index items_name_trgm on public.things using gin (name extensions.gin_trgm_ops);`.replace("create index", "create table public.things (name text);\ncreate index"),
    });
    expectInSync(await everyShadow(live.url, dir));
  });

  it("an extension created, used, and dropped later replays (the live database no longer has it)", async () => {
    const { live, dir } = await pushed({
      "20250101000000_net.sql": "create extension if not exists pg_net with schema extensions;\ncreate table public.hooks (id int);",
      "20250102000000_unnet.sql": "drop extension if exists pg_net;",
      "20250103000000_jwt.sql": "drop extension if exists pgjwt;\ncreate extension if not exists pgjwt with schema extensions;\nselect extensions.sign('{}'::json, 'secret');\ndrop extension pgjwt;",
    });
    expect((await live.sql`select count(*)::int as n from pg_extension where extname in ('pg_net', 'pgjwt')`)[0].n).toBe(0);
    expectInSync(await everyShadow(live.url, dir));
  });
});

/** What `supabase db dump` writes at the top of an init migration. */
const DUMP_HEADER = `${DUMP_PREAMBLE}CREATE TABLE IF NOT EXISTS "public"."accounts" (
    "id" "uuid" DEFAULT "extensions"."uuid_generate_v4"() NOT NULL,
    "secret_ref" "uuid",
    "created_at" timestamp with time zone DEFAULT "now"() NOT NULL
);
ALTER TABLE "public"."accounts" OWNER TO "postgres";
ALTER TABLE ONLY "public"."accounts" ADD CONSTRAINT "accounts_pkey" PRIMARY KEY ("id");
CREATE OR REPLACE FUNCTION "public"."notify_hook"() RETURNS "trigger" LANGUAGE "plpgsql" SECURITY DEFINER SET "search_path" TO '' AS $$
begin
  perform net.http_post(url := 'https://example.invalid/hook', body := pg_catalog.jsonb_build_object('id', new.id));
  return new;
end $$;
ALTER FUNCTION "public"."notify_hook"() OWNER TO "postgres";
CREATE OR REPLACE TRIGGER "accounts_hook" AFTER INSERT ON "public"."accounts" FOR EACH ROW EXECUTE FUNCTION "public"."notify_hook"();
ALTER TABLE "public"."accounts" ENABLE ROW LEVEL SECURITY;
GRANT ALL ON TABLE "public"."accounts" TO "service_role";
RESET ALL;
`;

describe("3. dump-style migrations and platform-shaped --shadow-url", () => {
  it("replay on every shadow; a platform-shaped database counts as empty", async () => {
    const { live, dir } = await pushed({ "20250101000000_remote_schema.sql": DUMP_HEADER });
    expectInSync(await everyShadow(live.url, dir));
  });

  it("a shadow with user objects is refused, and the message says exactly what it found and what empty means", async () => {
    const { live, dir } = await pushed({ "20250101000000_a.sql": "create table public.a (id int);" });
    const used = await platform.database("used_shadow");
    cleanups.push(() => used.drop());
    await used.sql.unsafe(`create table public.leftover (id int); create function public.f() returns int language sql as 'select 1';
      create policy "leftover" on storage.objects for select using (true)`);
    const r = await schemaDiff(["--db-url", live.url, "--shadow-url", used.url, "--format", "json"], dir);
    expect(r.status).toBe(2);
    expect(r.json.error.message).toMatch(/is not empty: it has function public\.f\(\), policy leftover on storage\.objects, table public\.leftover/);
    expect(r.json.error.hint).toMatch(/no schema besides public and the platform's/);
    expect(r.json.error.hint).toMatch(/supabase start/);
  });
});

/** Migrations that build one object of every kind the dashboard then changes. */
const BASE = {
  "20250101000000_base.sql": `
create type public.mood as enum ('ok', 'sad');
create table public.base (id bigint generated by default as identity primary key, n integer not null default 0, mood public.mood);
create table public.owned (id int primary key);
create function public.f_owned() returns int language sql stable as $$ select 1 $$;
create view public.old_v as select id from public.base;
comment on table public.owned is 'owned by the migration role';
alter table public.owned enable row level security;`,
};

/** One dashboard change per kind of difference (and a few "missing" ones). */
const EVERY_KIND = `
create schema reporting;
create extension pg_trgm with schema extensions;
alter type public.mood add value 'happy';
create domain public.posint as integer check (value > 0);
create type public.pair as (a integer, b text);
create type public.floatrange as range (subtype = float8);
create sequence public.counter start 10;
create table public.extra_t (id int primary key, label text);
comment on table public.extra_t is 'made in the dashboard';
alter table public.base add column note text;
alter table public.base add constraint base_n_check check (n >= 0);
create index base_n_idx on public.base (n);
create function public.twice(x integer) returns integer language sql immutable return x * 2;
drop view public.old_v;
create view public.base_v as select id, n from public.base;
create materialized view public.base_mv as select count(*) as c from public.base;
create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger base_touch before update on public.base for each row execute function public.touch();
alter table public.base enable row level security;
create policy base_read on public.base for select to authenticated using (true);
revoke delete on public.base from anon;
alter publication supabase_realtime add table public.base;
alter table public.owned owner to service_role;
alter function public.f_owned() owner to service_role;
comment on table public.base is 'base table';
comment on column public.base.n is 'a count';
comment on table public.owned is null;
alter table public.base replica identity full;
`;

describe("4-7. owners, replica identity, comments, extensions; the round trip for every kind", () => {
  let live: Awaited<ReturnType<PlatformServer["database"]>>;
  let dir: string;
  let embedded: InProcessResult & { json: any };
  beforeAll(async () => {
    ({ live, dir } = await pushed(BASE));
    await live.sql.unsafe(EVERY_KIND);
    embedded = await schemaDiff(["--db-url", live.url, "--format", "json"], dir);
  });

  it("every kind of difference is reported; an owner change is an owner difference, never a grant one", async () => {
    expect(embedded.status).toBe(1);
    const kinds = new Set(embedded.json.schema.differences.map((d: any) => d.kind));
    // Every kind schema-diff knows (shared/schema_diff.ts OBJECT_KINDS).
    expect([...kinds].sort()).toEqual([...OBJECT_KINDS].sort());
    const s = summaryOf(embedded.json);
    expect(s).toContainEqual(["extra", "owner", "table public.owned"]);
    expect(s).toContainEqual(["extra", "owner", "function public.f_owned()"]);
    expect(s).toContainEqual(["extra", "extension", "pg_trgm"]);
    expect(s).toContainEqual(["changed", "table", "public.base", ["replica_identity"]]);
    expect(s).toContainEqual(["extra", "comment", "table public.base"]);
    expect(s).toContainEqual(["extra", "comment", "column public.base.n"]);
    expect(s).toContainEqual(["missing", "comment", "table public.owned"]);
    expect(s).toContainEqual(["missing", "view", "public.old_v"]);
    // The only grant difference is the revoke; service_role's access is the owner's now.
    expect(s.filter((d: any[]) => d[1] === "grant")).toEqual([["changed", "grant", "table public.base to anon", ["privileges"]]]);
    const sql = embedded.json.suggested_migration.sql;
    expect(sql).toContain("alter table public.owned owner to service_role;");
    expect(sql).toContain("alter function public.f_owned() owner to service_role;");
    expect(sql).not.toMatch(/from service_role/);
    expect(sql).toContain("alter table public.base replica identity full;");
    expect(sql).toContain("comment on column public.base.n is 'a count';");
    expect(sql).toContain("comment on table public.owned is null;");
    expect(sql).toContain("create extension if not exists pg_trgm with schema extensions;");
  });

  it("--ignore-owners leaves owner differences out, and their grant side effects with them", async () => {
    const r = await schemaDiff(["--db-url", live.url, "--format", "json", "--ignore-owners"], dir);
    const s = summaryOf(r.json);
    expect(s.filter((d: any[]) => d[1] === "owner")).toEqual([]);
    expect(s.filter((d: any[]) => d[1] === "grant")).toEqual([["changed", "grant", "table public.base to anon", ["privileges"]]]);
    expect(r.json.suggested_migration.sql).not.toContain("owner to");
  });

  it("both --shadow-url shadows report the same differences", async () => {
    for (const url of [await bareShadow(), await platformShadow()]) {
      const r = await schemaDiff(["--db-url", live.url, "--shadow-url", url, "--format", "json"], dir);
      expect(r.status).toBe(1);
      const spelling = (diffs: any[]) => diffs.map((d) => [d.change, d.kind, d.object]);
      expect(spelling(r.json.schema.differences)).toEqual(spelling(embedded.json.schema.differences));
    }
  });

  it("round trip: with the suggested migration appended, every shadow replays to in sync", async () => {
    const s = embedded.json.suggested_migration;
    const withFix = mkdtempSync(join(tmpdir(), "drift-guard-sdp-fix-"));
    cleanups.push(() => rmSync(withFix, { recursive: true, force: true }));
    cpSync(dir, withFix, { recursive: true });
    writeFileSync(join(withFix, s.file), s.sql);
    const results = await everyShadow(live.url, withFix);
    for (const [label, r] of results) {
      expect({ label, differences: r.json?.schema ? summaryOf(r.json) : r.json }).toEqual({ label, differences: [] });
      expect(r.status).toBe(0);
    }
  });
});

describe("6. hints name the real cause", () => {
  it("a syntax error: the file and line, Postgres's error, and that it is the migration's own (db reset fails too)", async () => {
    const live = await platform.database("hint_live");
    cleanups.push(() => live.drop());
    const dir = makeProject({ "20250101000000_bad.sql": "create table public.a (id int);\n\ncreate tabel public.b (id int);\n" });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const shadow of [[], ["--shadow-url", await bareShadow()]]) {
      const r = await schemaDiff(["--db-url", live.url, ...shadow, "--format", "json"], dir);
      expect(r.status).toBe(2);
      expect(r.json.error.message).toMatch(/^supabase\/migrations\/20250101000000_bad\.sql:3: cannot be replayed in .*: statement 2 \(create tabel public\.b \(id int\)\) failed: syntax error at or near "tabel".*\[cause: the migration's own error\]$/);
      expect(r.json.error.hint).toMatch(/`supabase db reset` would fail on it/);
      expect(r.json.error.hint).not.toMatch(/PGlite lacks/);
    }
  });

  it("a platform object the shadow cannot build: not the migration's fault; a platform-shaped shadow replays it", async () => {
    // auth.identities comes with the live platform's skeleton: that migration replays on every shadow.
    const copied = await pushed({
      "20250101000000_ids.sql": "create table public.a (id int);\ncreate view public.my_identities as select id, provider from auth.identities;",
    });
    expectInSync(await everyShadow(copied.live.url, copied.dir));
    // A platform view is no part of the skeleton (names and shapes only): the shadow lacks it.
    const platformView = "create view auth.identity_providers as select distinct provider from auth.identities";
    const live = await platform.database("live");
    cleanups.push(() => live.drop());
    await live.sql.unsafe(platformView);
    const dir = makeProject({
      "20250101000000_ids.sql": "create table public.a (id int);\ncreate view public.my_identities as select provider from auth.identity_providers;",
    });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    supabasePush(live.url, dir);
    for (const shadow of [[], ["--shadow-url", await bareShadow()]]) {
      const r = await schemaDiff(["--db-url", live.url, ...shadow, "--format", "json"], dir);
      expect(r.status).toBe(2);
      expect(r.json.error.message).toMatch(/_ids\.sql:2: .*relation "auth\.identity_providers" does not exist.*\[cause: the shadow lacks part of the platform\]/);
      expect(r.json.error.hint).toMatch(/not at fault/);
      expect(r.json.error.hint).toMatch(/supabase start/);
      expect(r.json.error.hint).not.toMatch(/fix/);
    }
    const shaped = await platform.database("shadow");
    cleanups.push(() => shaped.drop());
    await shaped.sql.unsafe(platformView);
    const ok = await schemaDiff(["--db-url", live.url, "--shadow-url", shaped.url, "--format", "json"], dir);
    expect(ok.json?.schema ? summaryOf(ok.json) : ok.json).toEqual([]);
  });

  it("a migration that uses a dashboard-enabled extension without creating it: replayed, with a warning that db reset would fail there", async () => {
    const { live, dir } = await pushed({ "20250101000000_a.sql": "create table public.words (w text);" });
    await live.sql.unsafe("create extension pg_trgm with schema extensions");
    const dir2 = mkdtempSync(join(tmpdir(), "drift-guard-sdp-trgm-"));
    cleanups.push(() => rmSync(dir2, { recursive: true, force: true }));
    cpSync(dir, dir2, { recursive: true });
    writeFileSync(join(dir2, "supabase/migrations/20250102000000_idx.sql"), "create index words_trgm on public.words using gin (w extensions.gin_trgm_ops);");
    supabasePush(live.url, dir2);
    for (const [, r] of await everyShadow(live.url, dir2)) {
      expect(r.status).toBe(0);
      expect(r.json.problems.map((p: any) => p.message).join("\n")).toMatch(/created extension\(s\) pg_trgm \(schema extensions\) in the shadow: .*`supabase db reset` would fail here/);
    }
  });
});

describe("a realistic project: dump-style init, many small files, RLS, nested dollar quotes, realtime, storage, webhooks", () => {
  const CORPUS_DIR = join(import.meta.dirname, "fixtures", "platform_corpus");
  const corpus = () => Object.fromEntries(readdirSync(CORPUS_DIR).map((f) => [f, readFileSync(join(CORPUS_DIR, f), "utf8")]));
  /** Dashboard-style changes, each with the difference every shadow must name. */
  const CHANGES: Array<[string, string[]]> = [
    ["alter table public.orgs replica identity full", ["changed", "table", "public.orgs"]],
    ["alter publication supabase_realtime add table public.orgs", ["extra", "publication", "public.orgs in supabase_realtime"]],
    ["alter publication supabase_realtime drop table public.messages", ["missing", "publication", "public.messages in supabase_realtime"]],
    [`drop policy "Anyone can upload an avatar." on storage.objects`, ["missing", "policy", '"Anyone can upload an avatar." on storage.objects']],
    [`create policy "public read" on storage.objects for select using (bucket_id = 'public')`, ["extra", "policy", '"public read" on storage.objects']],
    ["create extension citext with schema extensions", ["extra", "extension", "citext"]],
    ["comment on table public.orgs is 'tenants'", ["extra", "comment", "table public.orgs"]],
    ["alter table public.orgs owner to service_role", ["extra", "owner", "table public.orgs"]],
    ["alter policy \"members read messages\" on public.messages using (true)", ["changed", "policy", '"members read messages" on public.messages']],
    ["alter table public.memberships disable row level security", ["changed", "rls", "public.memberships"]],
    ["drop trigger messages_notify on public.messages", ["missing", "trigger", "messages_notify on public.messages"]],
  ];
  let live: Awaited<ReturnType<PlatformServer["database"]>>;
  let dir: string;
  beforeAll(async () => {
    ({ live, dir } = await pushed(corpus()));
  });

  it("every shadow reports in sync on the untouched database", async () => {
    expectInSync(await everyShadow(live.url, dir));
  });

  it("every shadow names each dashboard change", async () => {
    await live.sql.unsafe(CHANGES.map(([sql]) => sql).join(";\n"));
    const results = await everyShadow(live.url, dir);
    for (const [label, r] of results) {
      expect({ label, status: r.status }).toEqual({ label, status: 1 });
      const named = summaryOf(r.json).map((d: any[]) => d.slice(0, 3));
      expect({ label, named: [...named].sort() }).toEqual({ label, named: CHANGES.map(([, d]) => d).sort() });
    }
  });
});
