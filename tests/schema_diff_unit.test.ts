/** shared/schema_diff.ts and its renderings: pure, no database. */
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { renderSchemaReport } from "../shared/report_formats/schema_report.ts";
import {
  buildSchemaReport,
  type CatalogObject,
  type CatalogSnapshot,
  compareSnapshots,
  DEFAULT_EXCLUDED_SCHEMAS,
  diffSnapshots,
  normalizeSnapshot,
  quoteIdent,
  schemaFilter,
  suggestMigration,
} from "../shared/schema_diff.ts";

const PG15 = 150018;
const PG18 = 180006;
const snap = (objects: CatalogObject[], v = PG15): CatalogSnapshot => ({ server_version_num: v, objects });
const NOW = new Date("2026-01-02T03:04:05Z");

const table = (name: string): CatalogObject => ({
  kind: "table", name, parent: "schema:public",
  props: { partitioned: false, foreign: false, unlogged: false, partition_key: null, partition_of: null, partition_bound: null, inherits: null, options: null },
});
const column = (tbl: string, col: string, props: Record<string, unknown>, position = 1): CatalogObject => ({
  kind: "column", name: `${tbl}.${quoteIdent(col)}`, parent: `table:${tbl}`,
  props: { type: "text", not_null: false, default: null, generated: null, identity: null, collation: null, ...props },
  info: { table: tbl, column: quoteIdent(col), position },
});
const rls = (tbl: string, enabled: boolean, forced = false): CatalogObject => ({ kind: "rls", name: tbl, parent: `table:${tbl}`, props: { enabled, forced } });
const policy = (name: string, tbl: string, props: Record<string, unknown>): CatalogObject => ({
  kind: "policy", name: `${quoteIdent(name)} on ${tbl}`, parent: `table:${tbl}`,
  props: { command: "SELECT", permissive: true, roles: ["public"], using: "true", with_check: null, ...props },
  info: { table: tbl, policy: quoteIdent(name) },
});
const grant = (on: string, object: string, grantee: string, privileges: string[], grantable: string[] = []): CatalogObject => ({
  kind: "grant", name: `${on} ${object} to ${grantee}`, parent: `${on}:${object}`,
  props: { privileges, grantable }, info: { on, object, grantee, table: null, column: null },
});
const fn = (name: string, props: Record<string, unknown>, definition = `CREATE OR REPLACE FUNCTION ${name}\n RETURNS integer\n LANGUAGE sql\nAS $function$select 1$function$\n`): CatalogObject => ({
  kind: "function", name, parent: "schema:public",
  props: { kind: "function", arguments: "", returns: "integer", language: "sql", security_definer: false, volatility: "volatile", strict: false,
    leakproof: false, parallel: "unsafe", config: null, body_hash: "md5:1", ...props },
  info: { definition },
});
const index = (name: string, tbl: string, definition: string, constraint: string | null = null): CatalogObject => ({
  kind: "index", name, parent: `table:${tbl}`, props: { table: tbl, definition }, info: { constraint },
});

const base = (): CatalogObject[] => [
  { kind: "schema", name: "public", props: {} },
  table("public.profiles"),
  column("public.profiles", "id", { type: "uuid", not_null: true }, 1),
  column("public.profiles", "bio", { default: "'hi'::text" }, 2),
  rls("public.profiles", true),
  policy("read all", "public.profiles", {}),
  grant("table", "public.profiles", "anon", ["SELECT"]),
  fn("public.add(integer, integer)", {}),
];

describe("diffSnapshots", () => {
  it("equal snapshots: no differences", () => {
    expect(diffSnapshots(snap(base()), snap(base()))).toEqual([]);
  });

  it("names missing, extra and changed objects with the changed fields only", () => {
    const live = base().filter((o) => o.kind !== "policy");
    live.push(column("public.profiles", "website", { type: "text" }, 3));
    live[3] = column("public.profiles", "bio", { default: "'changed'::text", not_null: true }, 2);
    const diffs = diffSnapshots(snap(base()), snap(live));
    const byObject = Object.fromEntries(diffs.map((d) => [`${d.kind} ${d.object}`, d]));
    expect(byObject['policy "read all" on public.profiles']).toMatchObject({ change: "missing", actual: null, security: true });
    expect(byObject["column public.profiles.website"]).toMatchObject({ change: "extra", expected: null, security: false });
    expect(byObject["column public.profiles.bio"]).toMatchObject({
      change: "changed",
      fields: ["default", "not_null"],
      expected: { default: "'hi'::text", not_null: false },
      actual: { default: "'changed'::text", not_null: true },
    });
    expect(diffs).toHaveLength(3);
    // Security differences come first.
    expect(diffs[0].kind).toBe("policy");
  });

  it("folds the children of an extra table into it and counts them", () => {
    const live = [...base(), table("public.notes"), column("public.notes", "id", { type: "bigint" }), column("public.notes", "body", {}, 2), rls("public.notes", false),
      grant("table", "public.notes", "anon", ["SELECT", "INSERT"])];
    const diffs = diffSnapshots(snap(base()), snap(live));
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toMatchObject({ kind: "table", object: "public.notes", change: "extra", includes: 4, security: true });
    expect(diffs[0].message).toMatch(/row level security is disabled/);
  });

  it("folds through grandparents (a policy of a missing table) but never folds a changed child", () => {
    const expected = [...base(), table("public.gone"), column("public.gone", "id", {}), policy("p", "public.gone", {})];
    const diffs = diffSnapshots(snap(expected), snap(base()));
    expect(diffs.map((d) => `${d.change} ${d.kind} ${d.object}`)).toEqual(["missing table public.gone"]);
  });

  it("reports RLS disabled live as a security change", () => {
    const live = base().map((o) => (o.kind === "rls" ? rls("public.profiles", false) : o));
    const [d] = diffSnapshots(snap(base()), snap(live));
    expect(d).toMatchObject({ kind: "rls", object: "public.profiles", change: "changed", fields: ["enabled"], security: true });
    expect(d.message).toMatch(/DISABLED live/);
  });

  it("a grant to anon that the migrations do not make is extra; a widened grant is changed", () => {
    const live = [...base().filter((o) => o.kind !== "grant"), grant("table", "public.profiles", "anon", ["INSERT", "SELECT"]), grant("table", "public.profiles", "authenticated", ["SELECT"])];
    const diffs = diffSnapshots(snap(base()), snap(live));
    expect(diffs.map((d) => [d.object, d.change])).toEqual([
      ["table public.profiles to anon", "changed"],
      ["table public.profiles to authenticated", "extra"],
    ]);
    expect(diffs[0].message).toMatch(/live also grants INSERT/);
  });

  it("property order in JSON does not matter, undefined equals null", () => {
    const a = snap([{ kind: "sequence", name: "public.s", props: { a: 1, b: [1, 2], c: null } }]);
    const b = snap([{ kind: "sequence", name: "public.s", props: { b: [1, 2], a: 1 } }]);
    expect(diffSnapshots(a, b)).toEqual([]);
  });
});

describe("normalizeSnapshot across server versions", () => {
  it("drops MAINTAIN (Postgres 17+) unless both servers have it", () => {
    const shadow = snap([grant("table", "public.t", "anon", ["MAINTAIN", "SELECT"], ["MAINTAIN"]), grant("table", "public.u", "anon", ["MAINTAIN"])], PG18);
    const live = snap([grant("table", "public.t", "anon", ["SELECT"])], PG15);
    expect(normalizeSnapshot(shadow, PG15).objects).toEqual([grant("table", "public.t", "anon", ["SELECT"], [])]);
    expect(normalizeSnapshot(shadow, 170004)).toBe(shadow);
    expect(diffSnapshots(shadow, live)).toEqual([]);
  });
});

describe("schemaFilter", () => {
  it("excludes the Supabase-managed schemas by default and adds --exclude-schema", () => {
    const f = schemaFilter(undefined, ["private"]);
    expect(f.include).toBeNull();
    for (const s of ["auth", "storage", "realtime", "graphql", "graphql_public", "vault", "pgsodium", "extensions", "supabase_functions", "supabase_migrations", "drift_guard", "private"]) {
      expect(f.exclude).toContain(s);
    }
    expect(f.attached).toEqual(["auth", "storage"]);
    expect(DEFAULT_EXCLUDED_SCHEMAS).not.toContain("public");
  });

  it("--include-schema compares only the listed schemas, even default-excluded ones", () => {
    const f = schemaFilter(["public", "storage"], undefined);
    expect(f.include).toEqual(["public", "storage"]);
    expect(f.exclude).toEqual([]);
    expect(f.attached).toEqual(["auth"]);
    expect(schemaFilter(["public", "x"], ["x"]).include).toEqual(["public"]);
  });

  it("--exclude-schema storage also stops comparing storage policies", () => {
    expect(schemaFilter(undefined, ["storage"]).attached).toEqual(["auth"]);
  });
});

describe("suggestMigration", () => {
  const suggest = (expected: CatalogObject[], live: CatalogObject[]) => suggestMigration(compareSnapshots(snap(expected), snap(live)), NOW);

  it("nothing to record: empty SQL, no file", () => {
    const s = suggest(base(), base());
    expect(s).toEqual({ sql: "", notes: [], file: null, statements: 0 });
  });

  it("columns: add with type/default/not null, set default, drop not null, drop", () => {
    const live = base().filter((o) => o.name !== "public.profiles.id");
    live.push(column("public.profiles", "website", { type: "character varying(200)", default: "'x'::character varying", not_null: true }, 3));
    live[2] = column("public.profiles", "bio", { default: "'changed'::text", not_null: true }, 2);
    const s = suggest(base(), live);
    expect(s.sql).toContain("alter table public.profiles add column website character varying(200) default 'x'::character varying not null;");
    expect(s.sql).toContain("alter table public.profiles alter column bio set default 'changed'::text;");
    expect(s.sql).toContain("alter table public.profiles alter column bio set not null;");
    expect(s.sql).toContain("alter table public.profiles drop column id;");
    expect(s.file).toBe("supabase/migrations/20260102030405_schema_drift.sql");
    expect(s.notes[0]).toMatch(/--mark-applied 20260102030405/);
    expect(s.notes.join("\n")).toMatch(/1 statement\(s\) drop objects/);
  });

  it("policies: create with roles/using/with check, alter in place, drop and recreate when the command changes", () => {
    const live = base().filter((o) => o.kind !== "policy");
    live.push(policy("own rows", "public.profiles", { command: "UPDATE", roles: ["authenticated"], using: "(auth.uid() = id)", with_check: "(auth.uid() = id)" }));
    const created = suggest(base(), live).sql;
    expect(created).toContain('drop policy "read all" on public.profiles;');
    expect(created).toContain('create policy "own rows" on public.profiles as permissive for update to authenticated\n  using ((auth.uid() = id))\n  with check ((auth.uid() = id));');

    const altered = suggest(base(), [...base().filter((o) => o.kind !== "policy"), policy("read all", "public.profiles", { using: "(id IS NOT NULL)", roles: ["anon", "authenticated"] })]).sql;
    expect(altered).toContain('alter policy "read all" on public.profiles\n  to anon, authenticated\n  using ((id IS NOT NULL));');

    const recreated = suggest(base(), [...base().filter((o) => o.kind !== "policy"), policy("read all", "public.profiles", { command: "ALL", permissive: false })]).sql;
    expect(recreated).toMatch(/drop policy "read all" on public\.profiles;\ncreate policy "read all" on public\.profiles as restrictive for all to public\n  using \(true\);/);
  });

  it("RLS, grants and revokes", () => {
    const live = base().map((o) => (o.kind === "rls" ? rls("public.profiles", false, true) : o.kind === "grant" ? grant("table", "public.profiles", "anon", ["INSERT"], ["INSERT"]) : o));
    live.push(grant("function", "public.add(integer, integer)", "PUBLIC", ["EXECUTE"]), grant("schema", "public", "anon", ["USAGE"]));
    const sql = suggest(base(), live).sql;
    expect(sql).toContain("alter table public.profiles disable row level security;");
    expect(sql).toContain("alter table public.profiles force row level security;");
    expect(sql).toContain("revoke select on table public.profiles from anon;");
    expect(sql).toContain("grant insert on table public.profiles to anon with grant option;");
    expect(sql).toContain("grant execute on function public.add(integer, integer) to public;");
    expect(sql).toContain("grant usage on schema public to anon;");
  });

  it("column grants name the column", () => {
    const g: CatalogObject = { kind: "grant", name: "column public.profiles.bio to anon", parent: "column:public.profiles.bio", props: { privileges: ["UPDATE"], grantable: [] },
      info: { on: "column", object: "public.profiles.bio", table: "public.profiles", column: "bio", grantee: "anon" } };
    expect(suggest(base(), [...base(), g]).sql).toContain("grant update (bio) on table public.profiles to anon;");
  });

  it("indexes from pg_get_indexdef; constraint indexes come with their constraint", () => {
    const live = [...base(), index("public.p_bio_idx", "public.profiles", "CREATE INDEX p_bio_idx ON public.profiles USING btree (bio)"),
      index("public.profiles_pkey", "public.profiles", "CREATE UNIQUE INDEX profiles_pkey ON public.profiles USING btree (id)", "profiles_pkey"),
      { kind: "constraint", name: "profiles_pkey on public.profiles", parent: "table:public.profiles", props: { type: "p", definition: "PRIMARY KEY (id)" },
        info: { table: "public.profiles", constraint: "profiles_pkey" } } as CatalogObject];
    const s = suggest(base(), live);
    expect(s.sql).toContain("CREATE INDEX p_bio_idx ON public.profiles USING btree (bio);");
    expect(s.sql).toContain("alter table public.profiles add constraint profiles_pkey PRIMARY KEY (id);");
    expect(s.sql).not.toContain("profiles_pkey ON");
    expect(s.statements).toBe(2);
  });

  it("function bodies from pg_get_functiondef; a changed result type drops first", () => {
    const def = "CREATE OR REPLACE FUNCTION public.add(a integer, b integer)\n RETURNS integer\n LANGUAGE sql\nAS $function$select a - b$function$\n";
    const live = base().map((o) => (o.kind === "function" ? fn("public.add(integer, integer)", { body_hash: "md5:2" }, def) : o));
    const s = suggest(base(), live);
    expect(s.sql).toContain(def.trimEnd() + ";");
    expect(s.sql).not.toContain("drop routine");
    const retyped = base().map((o) => (o.kind === "function" ? fn("public.add(integer, integer)", { returns: "bigint" }, def) : o));
    expect(suggest(base(), retyped).sql).toMatch(/drop routine public\.add\(integer, integer\);\nCREATE OR REPLACE FUNCTION/);
  });

  it("an extra table becomes create table with its columns in order, then constraints, RLS, policies and grants", () => {
    const live = [...base(), table("public.notes"),
      column("public.notes", "body", { not_null: true }, 2),
      column("public.notes", "id", { type: "bigint", identity: "by default", not_null: true }, 1),
      column("public.notes", "Created At", { type: "timestamp with time zone", default: "now()" }, 3),
      rls("public.notes", true),
      policy("mine", "public.notes", { roles: ["authenticated"] }),
      grant("table", "public.notes", "authenticated", ["SELECT"])];
    const sql = suggest(base(), live).sql;
    expect(sql).toContain('create table public.notes (\n  id bigint generated by default as identity not null,\n  body text not null,\n  "Created At" timestamp with time zone default now()\n);');
    const order = ["create table public.notes", "alter table public.notes enable row level security;", 'create policy mine on public.notes', "grant select on table public.notes to authenticated;"];
    const at = order.map((s) => sql.indexOf(s.replace('"Created At"', "")));
    expect(at.every((x) => x >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(sql).not.toContain("add column");
  });

  it("enum labels added live become add value; removed ones are a note", () => {
    const e = (labels: string[]): CatalogObject => ({ kind: "enum", name: "public.mood", parent: "schema:public", props: { labels } });
    expect(suggest([e(["sad", "ok"])], [e(["sad", "meh", "ok", "happy"])]).sql).toContain("alter type public.mood add value 'meh' after 'sad';\nalter type public.mood add value 'happy' after 'ok';");
    const s = suggest([e(["sad", "ok"])], [e(["ok"])]);
    expect(s.statements).toBe(0);
    expect(s.notes.join("\n")).toMatch(/enum type public.mood: labels were removed/);
  });

  it("what cannot be derived is a note, not SQL", () => {
    const live = base().map((o) => (o.name === "public.profiles.bio" ? column("public.profiles", "bio", { generated: "upper(id::text)" }, 2) : o));
    const s = suggest(base(), live);
    expect(s.statements).toBe(0);
    expect(s.notes.join("\n")).toMatch(/column public\.profiles\.bio: default, generated changed live; identity and generated columns are not derived safely/);
  });
});

describe("buildSchemaReport and renderings", () => {
  const shadowInfo = { kind: "embedded" as const, server_version_num: PG18, migrations: 3, statements: 9, ms: 1234 };
  const live = [...base().filter((o) => o.kind !== "rls"), rls("public.profiles", false), column("public.profiles", "web<site>", {}, 3)];
  const report = buildSchemaReport({ expected: snap(base(), PG18), actual: snap(live), problems: [], shadow: shadowInfo, schemas: schemaFilter(undefined, undefined), now: NOW });

  it("has the contract's shape", () => {
    expect(report.status).toBe("drift");
    expect(report.schema.summary).toMatchObject({ differences: 2, missing: 0, extra: 1, changed: 1, security: 1, by_kind: { rls: 1, column: 1 } });
    for (const d of report.schema.differences) expect(Object.keys(d)).toEqual(expect.arrayContaining(["kind", "object", "change", "expected", "actual"]));
    expect(report.suggested_migration.sql).toContain("disable row level security");
    const inSync = buildSchemaReport({ expected: snap(base()), actual: snap(base()), problems: [], shadow: shadowInfo, schemas: schemaFilter(undefined, undefined), now: NOW });
    expect(inSync.status).toBe("in_sync");
    expect(inSync.schema.differences).toEqual([]);
  });

  it("text names each object; in sync says so", () => {
    const text = renderSchemaReport(report, "text");
    expect(text).toMatch(/^drift: 2 difference\(s\)/);
    expect(text).toContain('column public.profiles."web<site>"');
    expect(text).toContain("row level security on public.profiles: DISABLED live");
    expect(text).toContain("Suggested migration");
  });

  it("markdown has a table row per difference and the SQL in a block", () => {
    const md = renderSchemaReport(report, "markdown");
    expect(md).toContain("| ⚠️ | changed | rls | `public.profiles` |");
    expect(md).toContain("```sql\n");
  });

  it("junit is well-formed XML with a failure per difference", () => {
    const xml = renderSchemaReport(report, "junit");
    const doc = new XMLParser({ ignoreAttributes: false }).parse(xml);
    const suite = doc.testsuites.testsuite;
    expect(suite["@_failures"]).toBe("2");
    expect(suite.testcase.map((t: any) => t["@_name"])).toContain('column public.profiles."web<site>"');
  });

  it("json round-trips", () => {
    expect(JSON.parse(renderSchemaReport(report, "json"))).toEqual(JSON.parse(JSON.stringify(report)));
  });
});

describe("suggestMigration: publications and views", () => {
  const member = (tbl: string, props: Record<string, unknown> = {}): CatalogObject => ({
    kind: "publication", name: `${tbl} in supabase_realtime`, parent: `table:${tbl}`, props: { row_filter: null, columns: null, ...props },
    info: { table: tbl, publication: "supabase_realtime" },
  });
  const view = (definition: string, options: string[] | null = null): CatalogObject => ({ kind: "view", name: "public.v", parent: "schema:public", props: { definition, options } });

  it("realtime membership added or removed live", () => {
    const added = suggestMigration(compareSnapshots(snap(base()), snap([...base(), member("public.profiles", { row_filter: "(id IS NOT NULL)" })])), NOW).sql;
    expect(added).toContain("alter publication supabase_realtime add table public.profiles where ((id IS NOT NULL));");
    const removed = suggestMigration(compareSnapshots(snap([...base(), member("public.profiles")]), snap(base())), NOW).sql;
    expect(removed).toContain("alter publication supabase_realtime drop table public.profiles;");
  });

  it("views: create or replace; only options changed: alter view set/reset", () => {
    const changed = suggestMigration(compareSnapshots(snap([view(" SELECT 1;")]), snap([view(" SELECT 2;", ["security_invoker=on"])])), NOW);
    expect(changed.sql).toContain("create or replace view public.v with (security_invoker=on) as\nSELECT 2;");
    const opts = suggestMigration(compareSnapshots(snap([view(" SELECT 1;", ["security_invoker=on"])]), snap([view(" SELECT 1;")])), NOW);
    expect(opts.sql).toContain("alter view public.v reset (security_invoker);");
    const [d] = diffSnapshots(snap([view(" SELECT 1;", ["security_invoker=on"])]), snap([view(" SELECT 1;")]));
    expect(d.security).toBe(true);
  });
});
