/** shared/platform_skeleton.ts: the live platform's skeleton as statements for the shadow. */
import { describe, expect, it } from "vitest";
import { type PlatformSkeleton, safeDefault, skeletonFixedSchema, skeletonStandInScript, skeletonStatements } from "../shared/platform_skeleton.ts";
import { createdByMigrations } from "../db/shadow.ts";
import { classifyReplayFailure } from "../shared/replay_failure.ts";

const SKELETON: PlatformSkeleton = {
  schemas: [{ name: "auth", extension: null }, { name: "pgtle", extension: "pg_tle" }, { name: "cron", extension: "pg_cron" }],
  extensions: [{ name: "pg_tle", schema: "pgtle", fixed_schema: "pgtle" }, { name: "pg_cron", schema: "extensions", fixed_schema: null }],
  types: [{ schema: "auth", name: "factor_type", kind: "e", labels: ["totp", "it's"], base: null, attributes: null, subtype: null, extension: null }],
  sequences: [{ schema: "auth", name: "refresh_tokens_id_seq", extension: null }],
  tables: [{
    schema: "auth",
    name: "mfa_factors",
    rls: true,
    extension: null,
    columns: [
      { name: "id", type: "uuid", not_null: true, identity: null, default: null },
      { name: "created_at", type: "timestamp with time zone", not_null: true, identity: null, default: "now()" },
      { name: "secret", type: "text", not_null: true, identity: null, default: "'s3cr3t-value-that-is-long-enough-to-matter'::text" },
    ],
    keys: [{ name: "mfa_factors_pkey", definition: "PRIMARY KEY (id)" }],
  }],
  functions: [
    { schema: "auth", name: "uid", kind: "f", arguments: "", identity_arguments: "", result: "uuid", returns_nothing: false, extension: null },
    { schema: "pgtle", name: "install_extension", kind: "f", arguments: "name text, version text", identity_arguments: "name text, version text", result: "boolean", returns_nothing: false, extension: "pg_tle" },
    { schema: "cron", name: "schedule", kind: "f", arguments: "schedule text, command text", identity_arguments: "schedule text, command text", result: "bigint", returns_nothing: false, extension: "pg_cron" },
  ],
};

describe("platform skeleton", () => {
  it("the platform's own objects, in dependency order, each guarded so that nothing existing is replaced", () => {
    const st = skeletonStatements(SKELETON, null);
    expect(st.map((s) => s.object)).toEqual([
      "schema auth", "type auth.factor_type", "sequence auth.refresh_tokens_id_seq",
      "table auth.mfa_factors", "table auth.mfa_factors", "table auth.mfa_factors", "table auth.mfa_factors", "function auth.uid()",
    ]);
    const sql = st.map((s) => s.sql).join("\n");
    expect(sql).toContain("create schema if not exists auth");
    expect(sql).toContain("create table if not exists auth.mfa_factors ()");
    expect(sql).toContain("add column if not exists created_at timestamp with time zone default now() not null");
    expect(sql).toContain("enable row level security");
    expect(sql).toContain("to_regtype('auth.factor_type')");
    // A literal in a quoted label survives two levels of quoting.
    expect(sql).toContain("''it''''s''");
    expect(sql).not.toContain("pgtle.install_extension");
  });

  it("a default that is not a plain shape is left out, and its NOT NULL with it", () => {
    const sql = skeletonStatements(SKELETON, null).map((s) => s.sql).join("\n");
    expect(sql).not.toContain("s3cr3t");
    expect(sql).toMatch(/add column if not exists secret text$/m);
    expect(safeDefault("now()")).toBe(true);
    expect(safeDefault("nextval('auth.refresh_tokens_id_seq'::regclass)")).toBe(true);
    expect(safeDefault("'{}'::jsonb")).toBe(true);
    expect(safeDefault("gen_random_uuid()")).toBe(true);
    expect(safeDefault("current_setting('app.jwt_secret'::text)")).toBe(false);
    expect(safeDefault("'eyJhbGciOiJIUzI1NiJ9.e30.long-token-that-should-not-leave'::text")).toBe(false);
  });

  it("stub bodies keep the signature: a value-returning function returns null, set- and void-returning ones return nothing", () => {
    const fns: PlatformSkeleton["functions"] = [
      { schema: "pgmq", name: "create", kind: "f", arguments: "queue_name text", identity_arguments: "queue_name text", result: "void", returns_nothing: true, extension: null },
      { schema: "supabase_functions", name: "http_request", kind: "f", arguments: "", identity_arguments: "", result: "trigger", returns_nothing: false, extension: null },
      { schema: "x", name: "p", kind: "p", arguments: "a integer", identity_arguments: "a integer", result: null, returns_nothing: true, extension: null },
    ];
    const sql = skeletonStatements({ ...SKELETON, schemas: [], types: [], sequences: [], tables: [], functions: fns }, null).map((s) => s.sql);
    expect(sql[0]).toContain("create function pgmq.\"create\"(queue_name text) returns void language plpgsql as $drift_guard_stub$ begin return; end $drift_guard_stub$");
    expect(sql[1]).toContain("returns trigger language plpgsql as $drift_guard_stub$ begin return null; end $drift_guard_stub$");
    expect(sql[2]).toContain("create procedure x.p(a integer) language plpgsql as $drift_guard_stub$ begin end $drift_guard_stub$");
  });

  it("an extension's stand-in script is its live members, one guarded statement a line; its schema is fixed only where its control file fixes it", () => {
    const script = skeletonStandInScript(SKELETON, "pg_tle");
    expect(script).toContain("pgtle.install_extension");
    expect(script).not.toContain("create schema if not exists pgtle"); // the control file's schema: made by create extension
    expect(script.split(";\n").every((line) => line.startsWith("do $drift_guard_member$ begin execute "))).toBe(true);
    expect(skeletonStandInScript(SKELETON, "pg_cron")).toContain("create schema if not exists cron");
    expect(skeletonStandInScript(SKELETON, "pgmq")).toBe("");
    // Hand-written stubs come first, so a view the skeleton does not copy (vault.decrypted_secrets) is still there.
    const merged = skeletonStandInScript(SKELETON, "pg_tle", "create view @extschema@.v as select 1;\ncreate function @extschema@.f() returns int language sql as $$ select 1 $$;");
    expect(merged.split(";\n").length).toBe(script.split(";\n").length + 2);
    expect(merged.indexOf("@extschema@.v")).toBeLessThan(merged.indexOf("pgtle.install_extension"));
    expect(skeletonFixedSchema(SKELETON, "pg_tle")).toBe("pgtle");
    expect(skeletonFixedSchema(SKELETON, "pg_cron")).toBeNull();
    expect(skeletonFixedSchema(undefined, "pg_tle")).toBeNull();
  });

  it("objects the migrations create in platform schemas are known, so the skeleton leaves them to the migration", () => {
    const made = createdByMigrations([{ version: "1", name: "a", path: "a.sql", statements: [
      "create or replace function auth.is_admin() returns boolean language sql as 'select true'",
      'create table if not exists "storage"."Bucket_Meta" (id int)',
      "create type public.mood as enum ('a')",
    ] } as any]);
    expect([...made].sort()).toEqual(["Bucket_Meta".replace(/^/, "storage."), "auth.is_admin", "public.mood"].sort());
  });

  it("a replay failure on a platform object the shadow could not build names it and --shadow-url, never the migration", () => {
    const r = classifyReplayFailure({
      shadow: "embedded",
      sqlState: "42883",
      message: "function auth.custom_hook(jsonb) does not exist",
      statement: "select auth.custom_hook('{}')",
      standIns: [],
      unbuilt: [{ object: "function auth.custom_hook(event jsonb)", error: 'type "extensions.vector" does not exist' }],
    });
    expect(r.cause).toBe("platform");
    expect(r.hint).toContain("function auth.custom_hook(event jsonb)");
    expect(r.hint).toContain("--shadow-url");
    expect(r.hint).not.toMatch(/own error/);
  });

  it("catalog text that could end a quote or start another statement leaves its object out", () => {
    const evil: PlatformSkeleton["functions"][number] = {
      schema: "auth", name: "evil", kind: "f", arguments: "x text DEFAULT ''::text) returns int language sql as $drift_guard_stub$ select 1; drop schema public cascade; --",
      identity_arguments: "x text", result: "integer", returns_nothing: false, extension: null,
    };
    const st = skeletonStatements({ ...SKELETON, functions: [evil] }, null);
    expect(st.some((s) => s.object.includes("evil"))).toBe(false);
    expect(st.map((s) => s.sql).join("\n")).not.toContain("drop schema");
  });
});
