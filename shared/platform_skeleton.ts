/**
 * The live platform's skeleton (db/platform_skeleton.ts reads it), and the
 * statements that build it in a shadow before replay, so that migrations find
 * what a hosted project has before its first migration: auth.identities for a
 * foreign key, supabase_functions.http_request for a Database Webhook,
 * pgmq.create for a queue, auth.mfa_factors for a trigger guarded by
 * `to_regclass`.
 *
 * A skeleton is names and shapes, never behaviour: functions get stub bodies
 * with the live signature (C functions included), tables get their columns and
 * keys but no data, and a column default comes along only in a few plain shapes
 * (now(), gen_random_uuid(), nextval of a copied sequence, a constant); any other
 * default is left out and its column made nullable, so an insert a migration
 * makes behaves alike without copying expressions that may hold anything.
 *
 * Every statement is idempotent and never replaces what exists (a --shadow-url
 * made by `supabase start` has the real objects, and the stand-ins of
 * supabase/shadow/ keep their working bodies).
 */
import { quoteIdent, quoteLiteral } from "./schema_diff/sql_quote.ts";

export interface SkeletonColumn {
  name: string;
  type: string;
  not_null: boolean;
  identity: "a" | "d" | null;
  default: string | null;
}

export interface PlatformSkeleton {
  /** Platform schemas the live database has, and the extension that made each (null: the platform). */
  schemas: Array<{ name: string; extension: string | null }>;
  /** Every live extension, its schema, and the schema its control file forces, if any (pg_tle: pgtle). */
  extensions: Array<{ name: string; schema: string; fixed_schema: string | null }>;
  types: Array<{
    schema: string;
    name: string;
    kind: "e" | "d" | "c" | "r";
    labels: string[] | null;
    base: string | null;
    attributes: string[] | null;
    subtype: string | null;
    extension: string | null;
  }>;
  sequences: Array<{ schema: string; name: string; extension: string | null }>;
  tables: Array<{ schema: string; name: string; rls: boolean; extension: string | null; columns: SkeletonColumn[]; keys: Array<{ name: string; definition: string }> }>;
  functions: Array<{
    schema: string;
    name: string;
    kind: "f" | "p";
    arguments: string;
    identity_arguments: string;
    result: string | null;
    returns_nothing: boolean;
    extension: string | null;
  }>;
}

/** One statement of the skeleton and the object it builds (named in warnings when it cannot be built). */
export interface SkeletonStatement {
  object: string;
  sql: string;
}

/**
 * Defaults copied as they are: plain shapes that cannot hold a secret and that
 * every server evaluates alike. Anything else is left out.
 */
const SAFE_DEFAULT = new RegExp(
  "^(?:" + [
    "now\\(\\)", "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_USER", "timezone\\('utc'::text, now\\(\\)\\)",
    "(?:extensions\\.|pg_catalog\\.)?(?:gen_random_uuid|uuid_generate_v4)\\(\\)",
    "nextval\\('[a-z_][a-z0-9_]*\\.[a-z_][a-z0-9_]*'::regclass\\)",
    "true", "false", "-?[0-9]+(?:\\.[0-9]+)?", "NULL(?:::[a-z ]+)?",
    "'(?:[A-Za-z0-9_ .-]{0,32}|\\{\\}|\\[\\])'::[a-z_][a-z0-9_. \\[\\]\"]*",
    "ARRAY\\[\\]::[a-z_][a-z0-9_. \\[\\]\"]*",
  ].join("|") + ")$",
);

/**
 * Whether a live column default is copied into the skeleton.
 * @example safeDefault("now()") // true
 * @example safeDefault("'secret-token-0123456789abcdefghijklmnop'::text") // false
 */
export function safeDefault(expression: string): boolean {
  return SAFE_DEFAULT.test(expression);
}

const qname = (schema: string, name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;

/**
 * Catalog text spliced into a statement as it is (types, signatures, results): the skeleton may come
 * from a function's GET /schema, so text that could end our dollar quote or start another statement
 * leaves its object out rather than reach the shadow.
 */
const splice = (...texts: Array<string | null | undefined>) => texts.every((t) => t == null || (!t.includes(";") && !t.includes("$drift_guard")));

/** A stub body: the signature is what matters; calling it does nothing. */
function stubBody(f: PlatformSkeleton["functions"][number]): string {
  if (f.kind === "p") return "begin end";
  return f.returns_nothing ? "begin return; end" : "begin return null; end";
}

function functionStatement(f: PlatformSkeleton["functions"][number]): string {
  const word = f.kind === "p" ? "procedure" : "function";
  const returns = f.kind === "p" ? "" : ` returns ${f.result}`;
  return `create ${word} ${qname(f.schema, f.name)}(${f.arguments})${returns} language plpgsql as $drift_guard_stub$ ${stubBody(f)} $drift_guard_stub$`;
}

function typeStatement(t: PlatformSkeleton["types"][number]): string | null {
  const name = qname(t.schema, t.name);
  if (t.kind === "e") return `create type ${name} as enum (${(t.labels ?? []).map(quoteLiteral).join(", ")})`;
  if (t.kind === "d" && t.base) return `create domain ${name} as ${t.base}`;
  if (t.kind === "c") return `create type ${name} as (${(t.attributes ?? []).join(", ")})`;
  if (t.kind === "r" && t.subtype) return `create type ${name} as range (subtype = ${t.subtype})`;
  return null;
}

/** A statement that runs `sql` only when the catalog lacks the object (`probe` is true when it exists). */
function unlessExists(probe: string, sql: string): string {
  return `do $drift_guard_skeleton$ begin if not (${probe}) then execute ${quoteLiteral(sql)}; end if; end $drift_guard_skeleton$`;
}

function columnSpec(c: SkeletonColumn): string {
  const parts = [quoteIdent(c.name), c.type];
  if (c.identity) parts.push(`generated ${c.identity === "a" ? "always" : "by default"} as identity`);
  const copied = !c.identity && c.default !== null && safeDefault(c.default);
  if (copied) parts.push(`default ${c.default}`);
  // A default left out would make a NOT NULL column refuse the inserts the live database takes.
  if (c.not_null && (c.default === null || copied || c.identity)) parts.push("not null");
  return parts.join(" ");
}

function tableStatements(t: PlatformSkeleton["tables"][number]): string[] {
  const name = qname(t.schema, t.name);
  const out = [`create table if not exists ${name} ()`];
  if (t.columns.length) out.push(`alter table ${name} ${t.columns.map((c) => `add column if not exists ${columnSpec(c)}`).join(", ")}`);
  for (const k of t.keys) {
    out.push(unlessExists(
      `exists (select from pg_catalog.pg_constraint where conrelid = ${quoteLiteral(name)}::pg_catalog.regclass and (conname = ${quoteLiteral(k.name)}` +
        `${k.definition.startsWith("PRIMARY KEY") ? " or contype = 'p'" : ""}))`,
      `alter table ${name} add constraint ${quoteIdent(k.name)} ${k.definition}`,
    ));
  }
  if (t.rls) out.push(`alter table ${name} enable row level security`);
  return out;
}

/**
 * The statements that build the objects one owner made: the platform (`extension`
 * null) or one extension. In dependency order: schemas, types, sequences, tables,
 * functions. Objects whose schema `skipSchema` rejects are left out.
 *
 * @example skeletonStatements(skeleton, null).map((s) => s.object) // ["schema auth", "type auth.factor_type", "table auth.identities", …]
 */
export function skeletonStatements(skeleton: PlatformSkeleton, extension: string | null): SkeletonStatement[] {
  const mine = <T extends { extension: string | null }>(xs: readonly T[]) => xs.filter((x) => x.extension === extension);
  const types = mine(skeleton.types).filter((t) => splice(t.base, t.subtype, ...(t.attributes ?? [])));
  const tables = mine(skeleton.tables)
    .map((t) => ({ ...t, columns: t.columns.filter((c) => splice(c.type)), keys: t.keys.filter((k) => splice(k.definition)) }));
  const functions = mine(skeleton.functions).filter((f) => splice(f.arguments, f.identity_arguments, f.result));
  const out: SkeletonStatement[] = [];
  if (extension === null) {
    for (const s of mine(skeleton.schemas)) out.push({ object: `schema ${s.name}`, sql: `create schema if not exists ${quoteIdent(s.name)}` });
  } else {
    // An extension's own schemas other than its extension schema (pg_cron's cron): made by its script.
    const extSchema = skeleton.extensions.find((e) => e.name === extension)?.schema;
    for (const s of mine(skeleton.schemas)) if (s.name !== extSchema) out.push({ object: `schema ${s.name}`, sql: `create schema if not exists ${quoteIdent(s.name)}` });
  }
  for (const t of types) {
    const sql = typeStatement(t);
    if (sql) out.push({ object: `type ${t.schema}.${t.name}`, sql: unlessExists(`pg_catalog.to_regtype(${quoteLiteral(qname(t.schema, t.name))}) is not null`, sql) });
  }
  for (const s of mine(skeleton.sequences)) out.push({ object: `sequence ${s.schema}.${s.name}`, sql: `create sequence if not exists ${qname(s.schema, s.name)}` });
  for (const t of tables) for (const sql of tableStatements(t)) out.push({ object: `table ${t.schema}.${t.name}`, sql });
  for (const f of functions) {
    out.push({
      object: `function ${f.schema}.${f.name}(${f.identity_arguments})`,
      sql: unlessExists(`exists (select from pg_catalog.pg_proc p where p.pronamespace = ${quoteLiteral(quoteIdent(f.schema))}::pg_catalog.regnamespace and p.proname = ${quoteLiteral(f.name)} ` +
        `and pg_catalog.pg_get_function_identity_arguments(p.oid) = ${quoteLiteral(f.identity_arguments)})`, functionStatement(f)),
    });
  }
  return out;
}

/**
 * The script of a stand-in for an extension the shadow lacks, from the members the
 * live extension has: each statement on its own line, each guarded so that one
 * member the shadow cannot build (a type from another extension) does not stop
 * `create extension`. Names stay as live qualifies them. Empty when the live
 * database does not have the extension.
 *
 * @example skeletonStandInScript(skeleton, "pgmq").includes("pgmq.create") // true
 */
export function skeletonStandInScript(skeleton: PlatformSkeleton, extension: string, handWritten = ""): string {
  const statements = skeletonStatements(skeleton, extension);
  if (!statements.length) return "";
  // The hand-written stubs first (views such as vault.decrypted_secrets, which a skeleton does not copy), then every live member.
  const own = handWritten.trim() ? handWritten.trim().replace(/;\s*$/, "").split(/;\n/).map((sql) => sql.trim()).filter(Boolean) : [];
  return [...own, ...statements.map((s) => s.sql)]
    .map((sql) => `do $drift_guard_member$ begin execute ${quoteLiteral(sql)}; exception when others then null; end $drift_guard_member$`)
    .join(";\n") + ";";
}

/** The schema a stand-in must be created in because the live extension's control file forces it (pg_tle: pgtle), else null. */
export function skeletonFixedSchema(skeleton: PlatformSkeleton | undefined, extension: string): string | null {
  return skeleton?.extensions.find((x) => x.name === extension)?.fixed_schema ?? null;
}
