/**
 * Schema drift, the pure part: two catalog snapshots in, differences out, and
 * the migration that would record the live database's changes.
 *
 * expected = the shadow built by replaying the local migrations
 * actual   = the live database
 * missing  = in the shadow, not live;  extra = live only;  changed = both, different.
 *
 * A snapshot is a flat list of objects, each with a kind, a SQL-quoted name
 * that identifies it, the properties we compare (props) and extra facts used
 * only for display and for writing SQL (info). db/catalog.ts builds them from
 * pg_catalog with the same SQL on every server.
 */
import { sha256Hex } from "./checksum.ts";
import type { Problem } from "./types.ts";
import { DriftGuardError } from "./types.ts";

export const OBJECT_KINDS = [
  "schema", "extension", "enum", "domain", "composite_type", "range_type", "sequence", "table", "column", "constraint",
  "index", "function", "view", "materialized_view", "trigger", "rls", "policy", "grant", "publication", "owner", "comment",
] as const;
export type ObjectKind = typeof OBJECT_KINDS[number];

/** Kinds whose differences change who can read or write what (an owner may do anything to its object). */
export const SECURITY_KINDS: ReadonlySet<ObjectKind> = new Set(["rls", "policy", "grant", "owner"]);

export interface CatalogObject {
  kind: ObjectKind;
  /** Identity, SQL-quoted: public.profiles, public.profiles.bio, public.add(integer, integer), "p" on public.t */
  name: string;
  /** The owning object's key (kind:name): a missing or extra parent folds its children. */
  parent?: string;
  /** Compared. */
  props: Record<string, unknown>;
  /** Never compared: for messages and for the suggested SQL. */
  info?: Record<string, unknown>;
}

export interface CatalogSnapshot {
  server_version_num: number;
  objects: CatalogObject[];
}

export interface SchemaFilter {
  /** Compare only these schemas (null: every schema not excluded). */
  include?: string[] | null;
  exclude: string[];
  /** Platform schemas whose tables carry user-written policies and triggers; those are compared. */
  attached?: string[];
}

/** Supabase-managed schemas: never built by the project's migrations. pg_* and information_schema are always out. */
export const DEFAULT_EXCLUDED_SCHEMAS = [
  "auth", "storage", "realtime", "_realtime", "graphql", "graphql_public", "vault", "pgsodium", "pgsodium_masks", "extensions",
  "supabase_functions", "supabase_migrations", "drift_guard", "net", "cron", "pgbouncer", "_analytics", "pgtle", "pgmq",
];

/**
 * Extensions are compared in every schema but pg_*: in the platform schemas too
 * (the dashboard enables them in `extensions`), unless --include-schema narrows
 * the comparison or the user excluded the schema (db/catalog.ts does the same in SQL).
 * @example extensionCompared(schemaFilter(undefined, undefined), "extensions") // true
 */
export function extensionCompared(filter: SchemaFilter, schema: string): boolean {
  if (/^pg_/.test(schema)) return false;
  if (filter.include) return filter.include.includes(schema);
  return !filter.exclude.includes(schema) || DEFAULT_EXCLUDED_SCHEMAS.includes(schema);
}

/**
 * The catalog object of an extension a --shadow-url shadow has only as a stand-in
 * (no pg_extension row there), or null when the filter does not compare it.
 * @example standInExtensionObject("pg_net", "extensions", schemaFilter(undefined, undefined))?.name // "pg_net"
 */
export function standInExtensionObject(name: string, schema: string, filter: SchemaFilter): CatalogObject | null {
  if (!extensionCompared(filter, schema)) return null;
  return { kind: "extension", name: quoteIdent(name), parent: `schema:${quoteIdent(schema)}`, props: { schema }, info: { stand_in: true } };
}

/** storage.objects policies and auth.users triggers are the project's own, though their tables are not. */
export const ATTACHED_SCHEMAS = ["auth", "storage"];

export function schemaFilter(include: readonly string[] | undefined, exclude: readonly string[] | undefined): SchemaFilter {
  const userExcluded = [...new Set(exclude ?? [])];
  if (include && include.length) {
    const only = [...new Set(include)].filter((s) => !userExcluded.includes(s));
    return { include: only, exclude: userExcluded, attached: ATTACHED_SCHEMAS.filter((s) => !userExcluded.includes(s) && !only.includes(s)) };
  }
  return {
    include: null,
    exclude: [...new Set([...DEFAULT_EXCLUDED_SCHEMAS, ...userExcluded])],
    attached: ATTACHED_SCHEMAS.filter((s) => !userExcluded.includes(s)),
  };
}

/**
 * The schema filter for an API caller (GET /schema, read scope): the caller's
 * include/exclude, but never a platform schema. drift_guard holds the token
 * hashes and the audit, auth and vault hold credentials and secrets in their
 * function bodies and defaults, and none of them is built by the project's
 * migrations, so a read token handed to every pull-request job has no reason
 * to see them. Naming one is a 400 that says so (fail closed, never silently).
 *
 * @example apiSchemaFilter(["public"], undefined) // { include: ["public"], … }
 * @example apiSchemaFilter(["drift_guard"], undefined) // throws bad_input
 */
export function apiSchemaFilter(include: readonly string[] | undefined, exclude: readonly string[] | undefined): SchemaFilter {
  const hidden = (include ?? []).filter((s) => DEFAULT_EXCLUDED_SCHEMAS.includes(s) || /^pg_/.test(s) || s === "information_schema");
  if (hidden.length) {
    throw new DriftGuardError(
      "bad_input",
      `include_schema: ${hidden.join(", ")} ${hidden.length === 1 ? "is a platform schema" : "are platform schemas"}; the function does not show platform schemas (drift_guard, auth, vault, storage, …) to API callers`,
      "compare your own schemas; a database owner can inspect the others with drift-guard schema-diff --db-url",
    );
  }
  // Without include, the default exclusions already hold every platform schema.
  return schemaFilter(include, exclude);
}

export type Change = "missing" | "extra" | "changed";

export interface SchemaDifference {
  kind: ObjectKind;
  object: string;
  change: Change;
  /** The shadow's properties (null when extra). For "changed", only the fields that differ. */
  expected: Record<string, unknown> | null;
  /** The live database's properties (null when missing). For "changed", only the fields that differ. */
  actual: Record<string, unknown> | null;
  fields?: string[];
  /** Changes who can read or write what (RLS, policies, grants, security definer functions). */
  security: boolean;
  message: string;
  /** Children folded into this missing/extra object (e.g. the columns of an extra table). */
  includes?: number;
}

export interface SchemaSummary {
  differences: number;
  missing: number;
  extra: number;
  changed: number;
  security: number;
  by_kind: Partial<Record<ObjectKind, number>>;
  compared: { expected: number; actual: number };
}

export interface SuggestedMigration {
  /** Empty when there is nothing to record. */
  sql: string;
  notes: string[];
  /** A file name for it in the migrations directory. */
  file: string | null;
  statements: number;
}

export interface SchemaDiffReport {
  status: "in_sync" | "drift";
  schema: { differences: SchemaDifference[]; summary: SchemaSummary };
  suggested_migration: SuggestedMigration;
  problems: Problem[];
  shadow: {
    kind: "embedded" | "postgres";
    server_version_num: number;
    migrations: number;
    statements: number;
    /** Wall time of the whole comparison. */
    ms: number;
    /** live_ms, shadow_start_ms (since start; the two overlap), replay_ms, shadow_catalog_ms. */
    timings?: Record<string, number>;
  };
  live: { server_version_num: number };
  schemas: SchemaFilter;
}

const key = (o: { kind: string; name: string }) => `${o.kind}:${o.name}`;

// ---------------------------------------------------------------------------------------------
// Normalization across server versions: the embedded shadow is a newer Postgres than most live
// databases. Only facts that the older server cannot express are dropped.

/** MAINTAIN (Postgres 17+) is dropped from both sides unless both servers know it. */
export function normalizeSnapshot(snapshot: CatalogSnapshot, otherVersion: number): CatalogSnapshot {
  const oldest = Math.min(snapshot.server_version_num, otherVersion);
  if (oldest >= 170000) return snapshot;
  const objects: CatalogObject[] = [];
  for (const o of snapshot.objects) {
    if (o.kind !== "grant") {
      objects.push(o);
      continue;
    }
    const privileges = (o.props.privileges as string[]).filter((p) => p !== "MAINTAIN");
    if (privileges.length === 0) continue;
    objects.push({ ...o, props: { ...o.props, privileges, grantable: (o.props.grantable as string[]).filter((p) => p !== "MAINTAIN") } });
  }
  return { ...snapshot, objects };
}

// ---------------------------------------------------------------------------------------------

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v ?? null;
}

const KIND_WORD: Record<ObjectKind, string> = {
  schema: "schema", extension: "extension", enum: "enum type", domain: "domain", composite_type: "composite type",
  range_type: "range type", sequence: "sequence", table: "table", column: "column", constraint: "constraint", index: "index",
  function: "function", view: "view", materialized_view: "materialized view", trigger: "trigger", rls: "row level security",
  policy: "policy", grant: "grant", publication: "publication membership", owner: "owner of", comment: "comment on",
};

const show = (v: unknown) => (v === null || v === undefined ? "none" : typeof v === "string" ? v : JSON.stringify(v));

function describe(kind: ObjectKind, object: string, change: Change, expected: CatalogObject | undefined, actual: CatalogObject | undefined, fields: string[]): string {
  const what = `${KIND_WORD[kind]} ${object}`;
  if (kind === "rls" && change !== "changed") {
    const o = (expected ?? actual)!;
    return `row level security on ${object} (${o.props.enabled ? "enabled" : "disabled"}): the table is ${change === "missing" ? "missing live" : "live only"}`;
  }
  if (kind === "rls") {
    const e = expected!.props, a = actual!.props;
    const parts: string[] = [];
    if (e.enabled !== a.enabled) parts.push(a.enabled ? "enabled live, disabled by the migrations" : "DISABLED live, enabled by the migrations");
    if (e.forced !== a.forced) parts.push(a.forced ? "forced live, not by the migrations" : "not forced live, forced by the migrations");
    return `row level security on ${object}: ${parts.join("; ")}`;
  }
  if (kind === "grant") {
    const privs = (o?: CatalogObject) => (o ? (o.props.privileges as string[]) : []);
    const added = privs(actual).filter((p) => !privs(expected).includes(p));
    const removed = privs(expected).filter((p) => !privs(actual).includes(p));
    const parts: string[] = [];
    if (added.length) parts.push(`live also grants ${added.join(", ")}`);
    if (removed.length) parts.push(`live lacks ${removed.join(", ")}`);
    if (!added.length && !removed.length) parts.push("grant option differs");
    return `${what}: ${parts.join("; ")}`;
  }
  if (kind === "owner") {
    const e = expected?.props.owner, a = actual?.props.owner;
    if (change === "extra") return `${what} is ${a} live; the migrations leave it to the role that runs them`;
    if (change === "missing") return `${what} is ${e} in the migrations; live it is the role that runs migrations`;
    return `${what} differs: ${e} -> ${a} live`;
  }
  if (kind === "comment") {
    if (change === "extra") return `${what} exists live only: ${JSON.stringify(actual!.props.text)}`;
    if (change === "missing") return `${what} is missing live (the migrations set ${JSON.stringify(expected!.props.text)})`;
    return `${what} differs: ${JSON.stringify(expected!.props.text)} -> ${JSON.stringify(actual!.props.text)} live`;
  }
  if (change === "missing") return `${what} is missing from the live database (the migrations create it)`;
  if (change === "extra") {
    const rls = kind === "table" && actual?.info?.rls_enabled === false ? " (row level security is disabled on it)" : "";
    return `${what} exists live but no migration creates it${rls}`;
  }
  const detail = fields.map((f) => {
    if (f === "body_hash") return "body differs";
    return `${f}: ${show(expected!.props[f])} -> ${show(actual!.props[f])} live`;
  });
  return `${what} differs: ${detail.join("; ")}`;
}

function isSecurity(kind: ObjectKind, fields: string[], obj: CatalogObject | undefined): boolean {
  if (SECURITY_KINDS.has(kind)) return true;
  if (kind === "function") return fields.includes("security_definer") || fields.includes("config") || obj?.props.security_definer === true;
  if (kind === "view") return fields.includes("options");
  if (kind === "table") return obj?.info?.rls_enabled === false;
  return false;
}

const KIND_ORDER = new Map<string, number>(OBJECT_KINDS.map((k, i) => [k, i]));

export interface Comparison {
  /** What to report: children of a missing or extra object are folded into it. */
  differences: SchemaDifference[];
  /** Every difference, children too: what the suggested migration is written from. */
  all: SchemaDifference[];
  expected: Map<string, CatalogObject>;
  actual: Map<string, CatalogObject>;
}

/** Compares two snapshots. Children of a missing or extra object are folded into it. */
export function diffSnapshots(expectedSnap: CatalogSnapshot, actualSnap: CatalogSnapshot, options: CompareOptions = {}): SchemaDifference[] {
  return compareSnapshots(expectedSnap, actualSnap, options).differences;
}

export interface CompareOptions {
  /** Leave owner differences out (--ignore-owners). Their grant side effects stay out too. */
  ignoreOwners?: boolean;
}

export function compareSnapshots(expectedSnap: CatalogSnapshot, actualSnap: CatalogSnapshot, options: CompareOptions = {}): Comparison {
  const expected = normalizeSnapshot(expectedSnap, actualSnap.server_version_num);
  const actual = normalizeSnapshot(actualSnap, expectedSnap.server_version_num);
  const e = new Map(expected.objects.map((o) => [key(o), o]));
  const a = new Map(actual.objects.map((o) => [key(o), o]));
  annotateTables(e, expected.objects);
  annotateTables(a, actual.objects);

  const raw = new Map<string, { d: SchemaDifference; parent?: string }>();
  for (const [k, eo] of e) {
    const ao = a.get(k);
    if (!ao) {
      raw.set(k, { d: difference(eo.kind, eo.name, "missing", eo, undefined, []), parent: eo.parent });
      continue;
    }
    const fields = [...new Set([...Object.keys(eo.props), ...Object.keys(ao.props)])].filter((f) => !equal(eo.props[f], ao.props[f])).sort();
    if (fields.length) raw.set(k, { d: difference(eo.kind, eo.name, "changed", eo, ao, fields), parent: eo.parent });
  }
  for (const [k, ao] of a) {
    if (!e.has(k)) raw.set(k, { d: difference(ao.kind, ao.name, "extra", undefined, ao, []), parent: ao.parent });
  }
  dropOwnerSideEffects(raw, e, a, options.ignoreOwners === true);

  // Fold: a child whose parent (or grandparent) is missing/extra in the same direction is part of
  // the topmost such ancestor, which counts it.
  const folded = new Set<string>();
  const parentOf = (k: string) => raw.get(k)?.parent ?? e.get(k)?.parent ?? a.get(k)?.parent;
  for (const [k, { d }] of raw) {
    if (d.change === "changed") continue;
    let top: SchemaDifference | undefined;
    let p = parentOf(k);
    const seen = new Set<string>();
    while (p && !seen.has(p)) {
      seen.add(p);
      const pd = raw.get(p)?.d;
      if (pd && pd.change === d.change) top = pd;
      p = parentOf(p);
    }
    if (top) {
      folded.add(k);
      top.includes = (top.includes ?? 0) + 1;
    }
  }
  const order = (x: SchemaDifference, y: SchemaDifference) =>
    (Number(y.security) - Number(x.security)) || (KIND_ORDER.get(x.kind)! - KIND_ORDER.get(y.kind)!) || (x.object < y.object ? -1 : x.object > y.object ? 1 : 0);
  const all = [...raw.values()].map((r) => r.d);
  const differences = [...raw.entries()].filter(([k]) => !folded.has(k)).map(([, { d }]) => d).sort(order);
  return { differences, all: all.sort(order), expected: e, actual: a };
}

/**
 * `alter … owner to r` moves the old owner's privileges to r, and an owner's own
 * privileges are not listed as grants. So an owner change also shows as grants to
 * the old or new owner appearing or vanishing: those are part of the owner
 * difference, never grant differences of their own (revoking them would take
 * the new owner's access away in a fresh environment).
 */
function dropOwnerSideEffects(raw: Map<string, { d: SchemaDifference }>, e: Map<string, CatalogObject>, a: Map<string, CatalogObject>, dropOwners: boolean): void {
  const owners = new Map<string, Set<string>>();
  for (const [k, { d }] of raw) {
    if (d.kind !== "owner") continue;
    const o = (a.get(k) ?? e.get(k))!;
    const object = String(o.info?.object);
    const roles = owners.get(object) ?? new Set<string>();
    for (const side of [e.get(k), a.get(k)]) if (side) roles.add(quoteIdent(String(side.props.owner)));
    owners.set(object, roles);
  }
  for (const [k, { d }] of raw) {
    if (d.kind === "owner" && dropOwners) raw.delete(k);
    if (d.kind !== "grant") continue;
    const info = (a.get(k) ?? e.get(k))!.info ?? {};
    const roles = owners.get(String(info.object)) ?? owners.get(String(info.table));
    if (!roles) continue;
    if (roles.has(String(info.grantee))) raw.delete(k);
  }
}

/** Tables learn their RLS flag (for messages about extra tables). */
function annotateTables(index: Map<string, CatalogObject>, objects: CatalogObject[]): void {
  for (const o of objects) {
    if (o.kind !== "rls") continue;
    const t = index.get(`table:${o.name}`);
    if (t) index.set(`table:${o.name}`, { ...t, info: { ...t.info, rls_enabled: o.props.enabled } });
  }
}

function difference(kind: ObjectKind, object: string, change: Change, eo: CatalogObject | undefined, ao: CatalogObject | undefined, fields: string[]): SchemaDifference {
  const pick = (o: CatalogObject | undefined) => {
    if (!o) return null;
    if (change !== "changed") return { ...o.props };
    return Object.fromEntries(fields.map((f) => [f, o.props[f] ?? null]));
  };
  return {
    kind,
    object,
    change,
    expected: pick(eo),
    actual: pick(ao),
    ...(change === "changed" ? { fields } : {}),
    security: isSecurity(kind, fields, ao ?? eo),
    message: describe(kind, object, change, eo, ao, fields),
  };
}

export function summarize(differences: readonly SchemaDifference[], expected: CatalogSnapshot, actual: CatalogSnapshot): SchemaSummary {
  const by_kind: Partial<Record<ObjectKind, number>> = {};
  for (const d of differences) by_kind[d.kind] = (by_kind[d.kind] ?? 0) + 1;
  return {
    differences: differences.length,
    missing: differences.filter((d) => d.change === "missing").length,
    extra: differences.filter((d) => d.change === "extra").length,
    changed: differences.filter((d) => d.change === "changed").length,
    security: differences.filter((d) => d.security).length,
    by_kind,
    compared: { expected: expected.objects.length, actual: actual.objects.length },
  };
}

// ---------------------------------------------------------------------------------------------
// The suggested migration: SQL that records the live database's changes, so that replaying the
// migrations builds what is live. Written only where it can be derived from the catalog safely;
// everything else is a note.

const RESERVED_WORDS = new Set([
  "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary", "both", "case", "cast", "check",
  "collate", "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog", "current_date", "current_role",
  "current_schema", "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
  "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike", "in", "initially", "inner",
  "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural",
  "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps", "placing", "primary", "references", "returning",
  "right", "select", "session_user", "similar", "some", "symmetric", "system_user", "table", "tablesample", "then", "to", "trailing",
  "true", "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window", "with",
]);

/** Quotes an identifier the way quote_ident() does (for names that come unquoted from the catalog). */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED_WORDS.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

const ensureSemicolon = (s: string) => (s.trimEnd().endsWith(";") ? s.trimEnd() : s.trimEnd() + ";");

/** Phases: drops first (children before parents), then creates in dependency order. */
const CREATE_PHASE: Record<ObjectKind, number> = {
  schema: 10, extension: 11, enum: 12, domain: 13, composite_type: 14, range_type: 15, sequence: 16, table: 20, column: 21,
  constraint: 22, index: 24, function: 30, view: 31, materialized_view: 32, trigger: 33, rls: 40, policy: 41, grant: 42, publication: 43,
  owner: 44, comment: 45,
};
const FK_PHASE = 23;
/** After indexes: `replica identity using index` needs its index. */
const REPLICA_IDENTITY_PHASE = 25;

interface Piece {
  phase: number;
  sql: string[];
}

export function suggestMigration(cmp: Comparison, now: Date, migrationsDir = "supabase/migrations"): SuggestedMigration {
  const pieces: Piece[] = [];
  const notes: string[] = [];
  const keyOf = (d: SchemaDifference) => `${d.kind}:${d.object}`;
  const byKey = new Map(cmp.all.map((d) => [keyOf(d), d]));
  const obj = (d: SchemaDifference) => (d.change === "missing" ? cmp.expected.get(keyOf(d)) : cmp.actual.get(keyOf(d)))!;
  const ancestorChanged = (d: SchemaDifference, change: Change): boolean => {
    let p = obj(d).parent;
    const seen = new Set<string>();
    while (p && !seen.has(p)) {
      seen.add(p);
      if (byKey.get(p)?.change === change) return true;
      p = (cmp.actual.get(p) ?? cmp.expected.get(p))?.parent;
    }
    return false;
  };
  let drops = 0;
  const drop = (kind: ObjectKind, sql: string) => {
    drops++;
    pieces.push({ phase: -CREATE_PHASE[kind], sql: [sql] });
  };
  const add = (phase: number, ...sql: string[]) => pieces.push({ phase, sql });
  const cannot = (d: SchemaDifference, why: string) => notes.push(`${KIND_WORD[d.kind]} ${d.object}: ${why}`);

  for (const d of cmp.all) {
    const o = obj(d);
    const p = o.props;
    const info = o.info ?? {};
    if (d.change === "missing" && ancestorChanged(d, "missing")) continue; // dropped with its parent
    const phase = CREATE_PHASE[d.kind];
    switch (d.kind) {
      case "schema":
        if (d.change === "extra") add(phase, `create schema if not exists ${d.object};`);
        else if (d.change === "missing") drop(d.kind, `drop schema ${d.object};`);
        break;
      case "extension":
        if (d.change === "extra") add(phase, `create extension if not exists ${d.object} with schema ${quoteIdent(String(p.schema))};`);
        else if (d.change === "missing") drop(d.kind, `drop extension ${d.object};`);
        else add(phase, `alter extension ${d.object} set schema ${quoteIdent(String(p.schema))};`);
        break;
      case "enum": {
        const labels = (p.labels as string[]) ?? [];
        if (d.change === "extra") add(phase, `create type ${d.object} as enum (${labels.map(quoteLiteral).join(", ")});`);
        else if (d.change === "missing") drop(d.kind, `drop type ${d.object};`);
        else {
          const before = (cmp.expected.get(keyOf(d))!.props.labels as string[]) ?? [];
          if (before.every((l) => labels.includes(l)) && before.every((l, i) => i === 0 || labels.indexOf(l) > labels.indexOf(before[i - 1]))) {
            const sql: string[] = [];
            labels.forEach((l, i) => {
              if (before.includes(l)) return;
              sql.push(i === 0 ? `alter type ${d.object} add value ${quoteLiteral(l)} before ${quoteLiteral(labels[1])};` : `alter type ${d.object} add value ${quoteLiteral(l)} after ${quoteLiteral(labels[i - 1])};`);
            });
            add(phase, ...sql);
          } else cannot(d, "labels were removed or reordered live; Postgres cannot drop enum labels, recreate the type by hand");
        }
        break;
      }
      case "domain":
        if (d.change === "extra") {
          const parts = [`create domain ${d.object} as ${p.base}`];
          if (p.default != null) parts.push(`default ${p.default}`);
          if (p.not_null) parts.push("not null");
          for (const c of (p.constraints as string[] | null) ?? []) parts.push(c);
          add(phase, parts.join(" ") + ";");
        } else if (d.change === "missing") drop(d.kind, `drop domain ${d.object};`);
        else cannot(d, `changed live (${d.fields?.join(", ")}); write the alter domain statements by hand`);
        break;
      case "composite_type":
        if (d.change === "extra") add(phase, `create type ${d.object} as (${((p.attributes as string[] | null) ?? []).join(", ")});`);
        else if (d.change === "missing") drop(d.kind, `drop type ${d.object};`);
        else cannot(d, "attributes changed live; write the alter type statements by hand");
        break;
      case "range_type":
        if (d.change === "extra") add(phase, `create type ${d.object} as range (subtype = ${p.subtype});`);
        else if (d.change === "missing") drop(d.kind, `drop type ${d.object};`);
        else cannot(d, "changed live; recreate it by hand");
        break;
      case "sequence": {
        if (info.identity) break; // belongs to an identity column
        const spec = (fields: string[]) => {
          const parts: string[] = [];
          if (fields.includes("type")) parts.push(`as ${p.type}`);
          if (fields.includes("increment")) parts.push(`increment by ${p.increment}`);
          if (fields.includes("min")) parts.push(`minvalue ${p.min}`);
          if (fields.includes("max")) parts.push(`maxvalue ${p.max}`);
          if (fields.includes("start")) parts.push(`start with ${p.start}`);
          if (fields.includes("cache")) parts.push(`cache ${p.cache}`);
          if (fields.includes("cycle")) parts.push(p.cycle ? "cycle" : "no cycle");
          return parts.join(" ");
        };
        if (d.change === "extra") {
          add(phase, `create sequence ${d.object} ${spec(["type", "increment", "min", "max", "start", "cache", "cycle"])};`);
          if (info.owned_by) add(FK_PHASE, `alter sequence ${d.object} owned by ${info.owned_by};`);
        } else if (d.change === "missing") drop(d.kind, `drop sequence ${d.object};`);
        else add(phase, `alter sequence ${d.object} ${spec(d.fields ?? [])};`);
        break;
      }
      case "table":
        if (d.change === "extra") {
          if (p.foreign) {
            cannot(d, "is a foreign table: create it with its server and options by hand");
            break;
          }
          const opts = (p.options as string[] | null) ?? [];
          const withOpts = opts.length ? ` with (${opts.join(", ")})` : "";
          const unlogged = p.unlogged ? "unlogged " : "";
          if (p.partition_of) {
            add(phase, `create ${unlogged}table ${d.object} partition of ${p.partition_of} ${p.partition_bound}${p.partition_key ? ` partition by ${p.partition_key}` : ""}${withOpts};`);
            break;
          }
          const columns = [...cmp.actual.values()]
            .filter((c) => c.kind === "column" && c.parent === `table:${d.object}`)
            .sort((x, y) => Number(x.info?.position) - Number(y.info?.position))
            .map((c) => "  " + columnDefinition(String(c.info?.column), c.props));
          const inherits = (p.inherits as string[] | null)?.length ? ` inherits (${(p.inherits as string[]).join(", ")})` : "";
          add(phase, `create ${unlogged}table ${d.object} (\n${columns.join(",\n")}\n)${inherits}${p.partition_key ? ` partition by ${p.partition_key}` : ""}${withOpts};`);
          if (p.replica_identity != null && p.replica_identity !== "default") add(REPLICA_IDENTITY_PHASE, `alter table ${d.object} replica identity ${p.replica_identity};`);
        } else if (d.change === "missing") drop(d.kind, `drop table ${d.object};`);
        else {
          const other = (d.fields ?? []).filter((f) => f !== "replica_identity");
          if (other.length < (d.fields ?? []).length) add(REPLICA_IDENTITY_PHASE, `alter table ${d.object} replica identity ${p.replica_identity ?? "default"};`);
          if (other.length) cannot(d, `changed live (${other.join(", ")}); partitioning, inheritance and storage options are not written for you`);
        }
        break;
      case "column": {
        const table = String(info.table), column = String(info.column);
        if (d.change === "extra") {
          if (byKey.get(o.parent!)?.change === "extra") break; // part of create table
          add(phase, `alter table ${table} add column ${columnDefinition(column, p)};`);
        } else if (d.change === "missing") drop(d.kind, `alter table ${table} drop column ${column};`);
        else {
          const f = d.fields ?? [];
          if (f.includes("identity") || f.includes("generated")) {
            cannot(d, `${f.join(", ")} changed live; identity and generated columns are not derived safely, write it by hand`);
            break;
          }
          const sql: string[] = [];
          if (f.includes("type")) {
            sql.push(`alter table ${table} alter column ${column} type ${p.type};`);
            notes.push(`column ${d.object}: type changed live; add a USING clause if existing values need converting`);
          }
          if (f.includes("default")) sql.push(p.default == null ? `alter table ${table} alter column ${column} drop default;` : `alter table ${table} alter column ${column} set default ${p.default};`);
          if (f.includes("not_null")) sql.push(`alter table ${table} alter column ${column} ${p.not_null ? "set" : "drop"} not null;`);
          if (f.includes("collation")) cannot(d, "collation changed live; not derived safely, write it by hand");
          add(phase, ...sql);
        }
        break;
      }
      case "constraint": {
        const table = String(info.table), name = String(info.constraint);
        const create = `alter table ${table} add constraint ${name} ${p.definition};`;
        const ph = p.type === "f" ? FK_PHASE : phase;
        if (d.change === "extra") add(ph, create);
        else if (d.change === "missing") drop(d.kind, `alter table ${table} drop constraint ${name};`);
        else add(ph, `alter table ${table} drop constraint ${name};`, create);
        break;
      }
      case "index": {
        if (info.constraint) break; // created and dropped with its constraint
        // Indexes on materialized views come after the views.
        const phase = o.parent?.startsWith("materialized_view:") ? CREATE_PHASE.materialized_view + 0.5 : CREATE_PHASE.index;
        if (d.change === "extra") add(phase, ensureSemicolon(String(p.definition)));
        else if (d.change === "missing") drop(d.kind, `drop index ${d.object};`);
        else add(phase, `drop index ${d.object};`, ensureSemicolon(String(p.definition)));
        break;
      }
      case "function": {
        const def = info.definition as string | null;
        if (d.change === "missing") {
          drop(d.kind, `drop routine ${d.object};`);
          break;
        }
        if (!def) {
          cannot(d, `is ${p.kind === "aggregate" ? "an aggregate" : "not a plain function"}; write its definition by hand`);
          break;
        }
        const sql: string[] = [];
        if (d.change === "changed" && (d.fields ?? []).some((f) => ["returns", "kind", "arguments"].includes(f))) {
          sql.push(`drop routine ${d.object};`);
          notes.push(`function ${d.object}: its result or arguments changed live, so it is dropped and recreated; grants on it are restated below only if they differ`);
        }
        sql.push(ensureSemicolon(def));
        add(phase, ...sql);
        break;
      }
      case "view": {
        const opts = (p.options as string[] | null) ?? [];
        const create = `create or replace view ${d.object}${opts.length ? ` with (${opts.join(", ")})` : ""} as\n${ensureSemicolon(String(p.definition).replace(/^\s+/, ""))}`;
        if (d.change === "extra") add(phase, create);
        else if (d.change === "missing") drop(d.kind, `drop view ${d.object};`);
        else if (d.fields?.length === 1 && d.fields[0] === "options") {
          const before = (cmp.expected.get(keyOf(d))!.props.options as string[] | null) ?? [];
          const reset = before.map((x) => x.split("=")[0]).filter((k) => !opts.some((x) => x.split("=")[0] === k));
          if (reset.length) add(phase, `alter view ${d.object} reset (${reset.join(", ")});`);
          if (opts.length) add(phase, `alter view ${d.object} set (${opts.join(", ")});`);
        } else {
          add(phase, create);
          notes.push(`view ${d.object}: create or replace view fails if columns were removed or reordered; then drop and recreate it (and its dependents)`);
        }
        break;
      }
      case "materialized_view": {
        const create = `create materialized view ${d.object} as\n${ensureSemicolon(String(p.definition).replace(/^\s+/, ""))}`;
        if (d.change === "extra") add(phase, create);
        else if (d.change === "missing") drop(d.kind, `drop materialized view ${d.object};`);
        else {
          add(phase, `drop materialized view ${d.object};`, create);
          notes.push(`materialized view ${d.object}: recreated; its indexes and grants must be restated (they are listed below only if they differ)`);
        }
        break;
      }
      case "trigger": {
        const table = String(info.table), name = String(info.trigger);
        const enable = p.enabled === "origin" ? null : `alter table ${table} ${p.enabled === "disabled" ? "disable" : p.enabled === "replica" ? "enable replica" : "enable always"} trigger ${name};`;
        if (d.change === "extra") add(phase, ensureSemicolon(String(p.definition)), ...(enable ? [enable] : []));
        else if (d.change === "missing") drop(d.kind, `drop trigger ${name} on ${table};`);
        else if (d.fields?.includes("definition")) add(phase, `drop trigger ${name} on ${table};`, ensureSemicolon(String(p.definition)), ...(enable ? [enable] : []));
        else add(phase, enable ?? `alter table ${table} enable trigger ${name};`);
        break;
      }
      case "rls": {
        const sql: string[] = [];
        const before = cmp.expected.get(keyOf(d))?.props ?? { enabled: false, forced: false };
        if (d.change === "missing") break;
        if (p.enabled !== before.enabled) sql.push(`alter table ${d.object} ${p.enabled ? "enable" : "disable"} row level security;`);
        if (p.forced !== before.forced) sql.push(`alter table ${d.object} ${p.forced ? "force" : "no force"} row level security;`);
        add(phase, ...sql);
        break;
      }
      case "policy": {
        const table = String(info.table), name = String(info.policy);
        const roles = ((p.roles as string[] | null) ?? ["public"]).map((r) => (r === "public" ? "public" : quoteIdent(r))).join(", ");
        const create = `create policy ${name} on ${table} as ${p.permissive ? "permissive" : "restrictive"} for ${String(p.command).toLowerCase()} to ${roles}` +
          (p.using != null ? `\n  using (${p.using})` : "") + (p.with_check != null ? `\n  with check (${p.with_check})` : "") + ";";
        if (d.change === "extra") add(phase, create);
        else if (d.change === "missing") drop(d.kind, `drop policy ${name} on ${table};`);
        else {
          const f = d.fields ?? [];
          if (f.includes("command") || f.includes("permissive") || (f.includes("using") && p.using == null) || (f.includes("with_check") && p.with_check == null)) {
            add(phase, `drop policy ${name} on ${table};`, create);
          } else {
            const parts = [`alter policy ${name} on ${table}`];
            if (f.includes("roles")) parts.push(`to ${roles}`);
            if (f.includes("using")) parts.push(`using (${p.using})`);
            if (f.includes("with_check")) parts.push(`with check (${p.with_check})`);
            add(phase, parts.join("\n  ") + ";");
          }
        }
        break;
      }
      case "publication": {
        const table = String(info.table), pub = String(info.publication);
        const cols = (p.columns as string[] | null)?.length ? ` (${(p.columns as string[]).join(", ")})` : "";
        const add_ = `alter publication ${pub} add table ${table}${cols}${p.row_filter != null ? ` where (${p.row_filter})` : ""};`;
        if (d.change === "extra") add(phase, add_);
        else if (d.change === "missing") drop(d.kind, `alter publication ${pub} drop table ${table};`);
        else add(phase, `alter publication ${pub} drop table ${table};`, add_);
        break;
      }
      case "owner": {
        const target = `${info.word} ${info.object}`;
        if (d.change === "missing") add(phase, `alter ${target} owner to current_user;`);
        else add(phase, `alter ${target} owner to ${quoteIdent(String(p.owner))};`);
        break;
      }
      case "comment":
        add(phase, `comment on ${d.object} is ${d.change === "missing" ? "null" : quoteLiteral(String(p.text))};`);
        break;
      case "grant": {
        const target = grantTarget(info);
        const grantee = info.grantee === "PUBLIC" ? "public" : String(info.grantee);
        const before = cmp.expected.get(keyOf(d))?.props ?? { privileges: [], grantable: [] };
        const after = cmp.actual.get(keyOf(d))?.props ?? { privileges: [], grantable: [] };
        const bp = before.privileges as string[], ap = after.privileges as string[];
        const bg = before.grantable as string[], ag = after.grantable as string[];
        const sql: string[] = [];
        const removed = bp.filter((x) => !ap.includes(x));
        if (removed.length) sql.push(`revoke ${privilegeList(removed, info)} on ${target} from ${grantee};`);
        const lostOption = bg.filter((x) => ap.includes(x) && !ag.includes(x));
        if (lostOption.length) sql.push(`revoke grant option for ${privilegeList(lostOption, info)} on ${target} from ${grantee};`);
        const added = ap.filter((x) => !bp.includes(x) && !ag.includes(x));
        if (added.length) sql.push(`grant ${privilegeList(added, info)} on ${target} to ${grantee};`);
        const withOption = ag.filter((x) => !bg.includes(x));
        if (withOption.length) sql.push(`grant ${privilegeList(withOption, info)} on ${target} to ${grantee} with grant option;`);
        add(phase, ...sql);
        break;
      }
    }
  }

  pieces.sort((x, y) => x.phase - y.phase);
  const body = pieces.flatMap((p) => p.sql);
  const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const file = body.length ? `${migrationsDir.replace(/\/+$/, "")}/${stamp}_schema_drift.sql` : null;
  if (body.length) {
    notes.unshift(
      `The live database already has these changes. Save the SQL as ${file}, then record it as applied instead of pushing it: ` +
        `drift-guard repair --mark-applied ${stamp} --reason "record schema drift" (or supabase migration repair --status applied ${stamp}).`,
    );
    if (drops) notes.push(`${drops} statement(s) drop objects the live database no longer has. If a local migration simply has not been pushed yet, delete those lines and push it instead.`);
    notes.push("Statements are ordered by object kind (schemas, types, tables, constraints, functions, views, triggers, RLS, policies, grants, owners, comments); reorder them if your objects depend on each other differently.");
  }
  const sql = body.length
    ? [`-- drift-guard schema-diff: what the live database has that the migrations do not build (${now.toISOString()}).`, `-- Review before committing.`, "", ...body, ""].join("\n")
    : "";
  return { sql, notes, file, statements: body.length };
}

function columnDefinition(column: string, p: Record<string, unknown>): string {
  const parts = [column, String(p.type)];
  if (p.collation) parts.push(`collate ${p.collation}`);
  if (p.generated) parts.push(`generated always as (${p.generated}) stored`);
  if (p.identity) parts.push(`generated ${p.identity} as identity`);
  if (p.default != null) parts.push(`default ${p.default}`);
  if (p.not_null) parts.push("not null");
  return parts.join(" ");
}

function grantTarget(info: Record<string, unknown>): string {
  const on = String(info.on);
  if (on === "column") return `table ${info.table}`;
  return `${on} ${info.object}`;
}

function privilegeList(privileges: string[], info: Record<string, unknown>): string {
  const list = privileges.join(", ").toLowerCase();
  return info.on === "column" ? privileges.map((x) => `${x.toLowerCase()} (${info.column})`).join(", ") : list;
}

/** The whole pipeline on two snapshots: what the CLI prints. */
export function buildSchemaReport(input: {
  expected: CatalogSnapshot;
  actual: CatalogSnapshot;
  problems: Problem[];
  shadow: SchemaDiffReport["shadow"];
  schemas: SchemaFilter;
  now: Date;
  migrationsDir?: string;
  ignoreOwners?: boolean;
}): SchemaDiffReport {
  const cmp = compareSnapshots(input.expected, input.actual, { ignoreOwners: input.ignoreOwners });
  return {
    status: cmp.differences.length ? "drift" : "in_sync",
    schema: { differences: cmp.differences, summary: summarize(cmp.differences, input.expected, input.actual) },
    suggested_migration: suggestMigration(cmp, input.now, input.migrationsDir),
    problems: input.problems,
    shadow: input.shadow,
    live: { server_version_num: input.actual.server_version_num },
    schemas: input.schemas,
  };
}

// ---------------------------------------------------------------------------------------------
// The schema fingerprint: what GET /schema returns, and its digest.

/**
 * `sha256:<hex>` over the compared content of a snapshot: each object's kind, name, parent and
 * props (not info, which is never compared), in kind:name order, as canonical JSON (sorted keys).
 * Any change schema-diff would report changes it; reading the same database twice gives the same
 * digest, whatever order the server returned the objects in. The server version is not part of it.
 */
export function schemaDigest(snapshot: Pick<CatalogSnapshot, "objects">): string {
  const objects = snapshot.objects
    .map((o) => canonical({ kind: o.kind, name: o.name, parent: o.parent ?? null, props: o.props }))
    .map((o) => JSON.stringify(o))
    .sort();
  return `sha256:${sha256Hex(`[${objects.join(",")}]`)}`;
}

/** The body of the function's GET /schema: the live side of schema-diff, so CI needs no database credentials. */
export interface SchemaFingerprint extends CatalogSnapshot {
  schema_digest: string;
  /** The filter the snapshot was read with. */
  schemas: SchemaFilter;
  /** The live platform facts the shadow copies before replay (db/shadow.ts PlatformSettings). */
  settings: Record<string, unknown>;
}

export function schemaFingerprint(snapshot: CatalogSnapshot, schemas: SchemaFilter, settings: object): SchemaFingerprint {
  return { schema_digest: schemaDigest(snapshot), server_version_num: snapshot.server_version_num, objects: snapshot.objects, schemas, settings: { ...settings } };
}
