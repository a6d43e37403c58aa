/** What a migration creates, read from its SQL; the catalog look-up is exercised in seed_incident.test.ts. */
import { describe, expect, it } from "vitest";
import { canonicalBody } from "../shared/definition_evidence.ts";
import { extractCreatedObjects, extractTouchedObjects, judgeEvidence, statementCoverage } from "../shared/evidence.ts";
import { splitStatements } from "../shared/sql_statements.ts";

const objects = (sql: string) => extractCreatedObjects(splitStatements(sql)).map((o) => [o.kind, o.schema, o.table ?? null, o.name]);

describe("extractCreatedObjects", () => {
  it.each([
    ["tables, qualified or not, quoted or not", 'create table if not exists public.a(id int); create table B(x int); create table "Rep"."My T"(x int);',
      [["table", "public", null, "a"], ["table", "public", null, "b"], ["table", "Rep", null, "My T"]]],
    ["temporary tables are not evidence", "create temp table t(x int);", []],
    ["columns, but not constraints", "alter table public.a add column if not exists note text; alter table a add constraint c check (true);",
      [["column", "public", "a", "note"]]],
    ["functions and procedures", "create or replace function api.f(x int) returns int language sql as $$ select 1 $$; create procedure p() language sql as $$ $$;",
      [["function", "api", null, "f"], ["function", "public", null, "p"]]],
    ["indexes belong to their table's schema", "create unique index concurrently if not exists a_idx on only s.a (id);", [["index", "s", "a", "a_idx"]]],
    ["policies", 'create policy "Users can read" on public.profiles for select using (true);', [["policy", "public", "profiles", "Users can read"]]],
    ["types, views, schemas, triggers", "create type mood as enum ('a'); create materialized view v as select 1; create schema if not exists x; create trigger t after insert on a for each row execute function f();",
      [["type", "public", null, "mood"], ["view", "public", null, "v"], ["schema", "x", null, "x"], ["trigger", "public", "a", "t"]]],
    ["nothing inside strings or comments", "-- create table nope(x int)\nselect 'create table nope2(x int)'; /* create table nope3() */", []],
  ])("%s", (_, sql, expected) => {
    expect(objects(sql)).toEqual(expected);
  });
});

describe("judgeEvidence", () => {
  const objs = extractCreatedObjects(["create table a(x int)", "create table b(x int)"]);
  it.each([
    [[true, true], "present"],
    [[false, false], "absent"],
    [[true, false], "partial"],
  ])("%j -> %s", (present, verdict) => {
    expect(judgeEvidence(objs, present as boolean[]).verdict).toBe(verdict);
  });
  it("no objects: unknown", () => {
    expect(judgeEvidence([], []).verdict).toBe("unknown");
  });
});

describe("extractTouchedObjects: what a migration creates or alters, for the comparison by definition", () => {
  const touched = (sql: string) =>
    extractTouchedObjects(splitStatements(sql)).map((o) => [o.kind, o.on ?? null, o.schema, o.table ?? null, o.name, o.altered ?? false]);
  it.each([
    ["every clause of an alter table", "-- header\nalter table public.orders add column if not exists total numeric, alter column note type text, add constraint c check (true), enable row level security;",
      [["column", null, "public", "orders", "total", false], ["column", null, "public", "orders", "note", true], ["constraint", null, "public", "orders", "c", false], ["rls", null, "public", "orders", "orders", false]]],
    ["grants and revokes name what they are on", "grant select on public.t to anon; grant execute on function f(int) to authenticated; revoke all on schema api from public; grant usage on all sequences in schema public to anon;",
      [["grant", "table", "public", null, "t", false], ["grant", "function", "public", null, "f", false], ["grant", "schema", "api", null, "api", false]]],
    ["altered policies, functions, views and types", "alter policy p on t using (false); alter function f() set search_path = ''; alter view v set (security_invoker = on); alter type mood add value 'x';",
      [["policy", null, "public", "t", "p", true], ["function", null, "public", null, "f", true], ["view", null, "public", null, "v", true], ["type", null, "public", null, "mood", true]]],
  ])("%s", (_, sql, expected) => {
    expect(touched(sql)).toEqual(expected);
  });
});

describe("statementCoverage", () => {
  it("names the statements whose effects cannot be compared, and counts data changes", () => {
    expect(statementCoverage(splitStatements("create table t (id int);\ninsert into t values (1);\ndo $$ begin execute 'create table x()'; end $$;\ncreate rule r as on insert to t do nothing;"))).toEqual({
      unchecked: ["statement 3 (do …)", "statement 4 (create rule …)"],
      data: 1,
    });
  });
});

describe("canonicalBody", () => {
  it("ignores comments, whitespace and case outside literals; keeps literals and quoted names", () => {
    expect(canonicalBody("\n  SELECT a  -- the argument\n;")).toBe(canonicalBody("select A"));
    expect(canonicalBody("select 'A'")).not.toBe(canonicalBody("select 'a'"));
    expect(canonicalBody('select "A" from t')).not.toBe(canonicalBody('select "a" from t'));
    expect(canonicalBody("select 1")).not.toBe(canonicalBody("select 2"));
  });
});
