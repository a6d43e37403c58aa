/** The pure parts of issue 13: extension statements, statement lines, failure causes, owner differences. */
import { describe, expect, it } from "vitest";
import { alteredExtension, extensionsMentioned, parseCreateExtension, parseDropExtension } from "../shared/extension_statements.ts";
import { classifyReplayFailure } from "../shared/replay_failure.ts";
import { statementLine } from "../shared/sql_statements.ts";
import { type CatalogSnapshot, compareSnapshots, schemaFilter, standInExtensionObject, suggestMigration } from "../shared/schema_diff.ts";
import { standInFiles } from "../db/extension_stand_ins.ts";

describe("extension statements", () => {
  it("top-level create extension with options in any order, quoted or not", () => {
    expect(parseCreateExtension(`CREATE EXTENSION IF NOT EXISTS "pg_graphql" WITH SCHEMA "graphql";`)).toEqual({ name: "pg_graphql", ifNotExists: true, schema: "graphql", version: null, cascade: false });
    expect(parseCreateExtension(`-- c\ncreate extension "uuid-ossp" version '1.1' schema extensions cascade`)).toEqual({ name: "uuid-ossp", ifNotExists: false, schema: "extensions", version: "1.1", cascade: true });
    expect(parseCreateExtension("create table t (id int)")).toBeNull();
  });

  it("create extension anywhere: DO blocks and function bodies", () => {
    const text = `do $$ begin create extension if not exists moddatetime schema extensions; exception when others then null; end $$`;
    expect(extensionsMentioned(text).map((e) => [e.name, e.schema])).toEqual([["moddatetime", "extensions"]]);
    expect(extensionsMentioned("execute $x$create extension if not exists pg_trgm with schema extensions version '1.6'$x$").map((e) => e.version)).toEqual(["1.6"]);
  });

  it("drop, alter and comment on extension", () => {
    expect(parseDropExtension("drop extension if exists pgjwt, \"pg_net\" cascade")).toEqual({ names: ["pgjwt", "pg_net"], ifExists: true });
    expect(parseDropExtension("drop table pgjwt")).toBeNull();
    expect(alteredExtension("alter extension pg_net update to '0.14'")).toBe("pg_net");
    expect(alteredExtension("comment on extension \"pg_graphql\" is 'x'")).toBe("pg_graphql");
  });

  it("stand-in files: only plain names and versions become file names", () => {
    expect(standInFiles("pg_net", ["0.14.0", "../x", "1--2"]).map((f) => f.path)).toEqual(["pg_net.control", "pg_net--0.14.0.sql"]);
    expect(() => standInFiles("../../etc/passwd", [])).toThrow(/no stand-in/);
    expect(standInFiles("pg_graphql", []).find((f) => f.path.endsWith(".control"))!.text).toMatch(/schema = graphql/);
  });
});

describe("statementLine", () => {
  it("the line a statement starts on, or where Postgres's position falls", () => {
    const text = "-- header\ncreate table a (id int);\n\n/* c */\ncreate tabel b (\n  id int\n);\n";
    expect(statementLine(text, 1)).toBe(2);
    expect(statementLine(text, 2)).toBe(5);
    expect(statementLine(text, 2, "/* c */\ncreate tabel b (\n  i".length)).toBe(6);
    expect(statementLine(text, 3)).toBeNull();
  });
});

describe("classifyReplayFailure", () => {
  const base = { shadow: "embedded" as const, standIns: [] };
  it("syntax errors are the migration's own", () => {
    const c = classifyReplayFailure({ ...base, sqlState: "42601", message: 'syntax error at or near "tabel"', statement: "create tabel t ()" });
    expect(c.cause).toBe("migration");
    expect(c.hint).toMatch(/supabase db reset` would fail/);
  });
  it("an unavailable extension, or one the shadow has only as a stand-in, is the platform's part, never 'fix the migration'", () => {
    for (const c of [
      classifyReplayFailure({ ...base, shadow: "postgres", sqlState: "0A000", message: 'extension "postgis" is not available', statement: "create extension postgis" }),
      classifyReplayFailure({ ...base, sqlState: "42883", message: "function net.http_collect_response(bigint) does not exist", statement: "select net.http_collect_response(1)", standIns: [{ name: "pg_net", schema: "extensions" }] }),
      classifyReplayFailure({ ...base, shadow: "postgres", sqlState: "42P01", message: 'relation "auth.identities" does not exist', statement: "create view v as select * from auth.identities" }),
    ]) {
      expect(c.cause).toBe("platform");
      expect(c.hint).not.toMatch(/fix/);
      expect(c.hint).toMatch(/supabase start/);
    }
  });
  it("what PGlite cannot do is PGlite's", () => {
    expect(classifyReplayFailure({ ...base, sqlState: "58P01", message: 'could not access file "auto_explain"', statement: "load 'auto_explain'" }).cause).toBe("pglite");
    expect(classifyReplayFailure({ ...base, sqlState: "XX000", message: "boom", statement: "select 1" }).cause).toBe("pglite");
    expect(classifyReplayFailure({ ...base, shadow: "postgres", sqlState: "XX000", message: "boom", statement: "select 1" }).cause).toBe("platform");
  });
});

describe("owners", () => {
  const snap = (owner: string | null, grants: Array<[string, string[]]>): CatalogSnapshot => ({
    server_version_num: 150000,
    objects: [
      { kind: "table", name: "public.t", parent: "schema:public", props: {} },
      ...(owner ? [{ kind: "owner" as const, name: "table public.t", parent: "table:public.t", props: { owner }, info: { word: "table", object: "public.t" } }] : []),
      ...grants.map(([grantee, privileges]) => ({
        kind: "grant" as const, name: `table public.t to ${grantee}`, parent: "table:public.t", props: { privileges, grantable: [] },
        info: { on: "table", object: "public.t", grantee },
      })),
    ],
  });
  it("an owner change is an owner difference; the owner's grants moving with it are not grant differences", () => {
    const expected = snap(null, [["anon", ["SELECT"]], ["service_role", ["DELETE", "INSERT", "SELECT", "UPDATE"]]]);
    const actual = snap("service_role", [["anon", ["SELECT"]]]);
    const cmp = compareSnapshots(expected, actual);
    expect(cmp.differences.map((d) => [d.change, d.kind, d.object])).toEqual([["extra", "owner", "table public.t"]]);
    const sql = suggestMigration(cmp, new Date(0)).sql;
    expect(sql).toContain("alter table public.t owner to service_role;");
    expect(sql).not.toContain("revoke");
    expect(compareSnapshots(expected, actual, { ignoreOwners: true }).differences).toEqual([]);
    // A real grant change next to it is still reported.
    expect(compareSnapshots(expected, snap("service_role", [["anon", ["INSERT", "SELECT"]]])).differences.map((d) => d.kind).sort()).toEqual(["grant", "owner"]);
  });
  it("stand-in extensions count as the extension, where extensions are compared", () => {
    expect(standInExtensionObject("pg_net", "extensions", schemaFilter(undefined, undefined))).toMatchObject({ kind: "extension", name: "pg_net", props: { schema: "extensions" } });
    expect(standInExtensionObject("pg_net", "extensions", schemaFilter(["public"], undefined))).toBeNull();
  });
});
