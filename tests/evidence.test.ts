/** What a migration creates, read from its SQL; the catalog look-up is exercised in seed_incident.test.ts. */
import { describe, expect, it } from "vitest";
import { extractCreatedObjects, judgeEvidence } from "../shared/evidence.ts";
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
