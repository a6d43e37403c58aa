/**
 * Evidence by definition: is what a local-only migration builds what the live
 * database has? The shadow (the migrations replayed) and the live catalog are
 * compared, but only on the objects this migration creates or alters, with
 * schema-diff's comparison (shared/schema_diff.ts), so that formatting, quoting
 * and casing never count, and a different body, type, USING clause or grant does.
 *
 *   identical  present and the same: marking it applied is right
 *   different  present, but not the same: each difference is named
 *   absent     none of it is live
 *   partial    some of it is live (and the same), some is not
 *   unknown    the shadow could not replay it, or it does something we cannot name
 */
import type { TouchedObject } from "./evidence.ts";
import { describeObject, extractTouchedObjects, statementCoverage } from "./evidence.ts";
import {
  type CatalogObject,
  type CatalogSnapshot,
  type Comparison,
  compareSnapshots,
  quoteIdent,
  type SchemaDifference,
  suggestMigration,
} from "./schema_diff.ts";
import { canonicalSql, compareCodePoints as compareVersions } from "./checksum.ts";
import { scanSql } from "./sql_statements.ts";
import type { Evidence, EvidenceObject, LocalMigration } from "./types.ts";

export interface DefinitionInput {
  migration: LocalMigration;
  /** The shadow's catalog after the migrations were replayed (null when the shadow could not be used). */
  shadow: CatalogSnapshot | null;
  live: CatalogSnapshot;
  /** Why the shadow could not replay this migration (or start at all). */
  replayFailure?: string;
  now: Date;
  migrationsDir?: string;
}

const TYPE_KINDS = ["enum", "domain", "composite_type", "range_type"];
const TABLE_CHILDREN = new Set(["column", "constraint", "rls"]);

const keyOf = (o: { kind: string; name: string }) => `${o.kind}:${o.name}`;
const qualifiedName = (schema: string, name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;

/** The catalog keys (kind:name) that stand for one touched object, looked up in the shadow (grants: both sides). */
function catalogKeys(o: TouchedObject, shadow: ReadonlyMap<string, CatalogObject>, live: ReadonlyMap<string, CatalogObject>): string[] {
  const table = o.table !== undefined ? qualifiedName(o.schema, o.table) : qualifiedName(o.schema, o.name);
  const own = qualifiedName(o.schema, o.name);
  const firstFound = (keys: string[]) => keys.filter((k) => shadow.has(k) || live.has(k)).slice(0, 1);
  const where = (pred: (c: CatalogObject) => boolean, sides: ReadonlyMap<string, CatalogObject>[]) => {
    const out = new Set<string>();
    for (const side of sides) for (const c of side.values()) if (pred(c)) out.add(keyOf(c));
    return [...out];
  };
  switch (o.kind) {
    case "schema":
      return firstFound([`schema:${quoteIdent(o.name)}`]);
    case "table": {
      const k = `table:${own}`;
      if (!shadow.has(k)) return firstFound([k]);
      return [k, ...where((c) => c.parent === k && TABLE_CHILDREN.has(c.kind), [shadow])];
    }
    case "view":
      return firstFound([`view:${own}`, `materialized_view:${own}`]);
    case "column":
      return firstFound([`column:${table}.${quoteIdent(o.name)}`]);
    case "constraint":
      return firstFound([`constraint:${quoteIdent(o.name)} on ${table}`]);
    case "index":
      return firstFound([`index:${own}`]);
    case "policy":
      return firstFound([`policy:${quoteIdent(o.name)} on ${table}`]);
    case "trigger":
      return firstFound([`trigger:${quoteIdent(o.name)} on ${table}`]);
    case "rls":
      return firstFound([`rls:${table}`]);
    case "type":
      return firstFound(TYPE_KINDS.map((k) => `${k}:${own}`));
    case "function": {
      const inShadow = where((c) => c.kind === "function" && c.name.startsWith(`${own}(`), [shadow]);
      return inShadow.length ? inShadow : where((c) => c.kind === "function" && c.name.startsWith(`${own}(`), [live]);
    }
    case "grant": {
      const on = o.on ?? "table";
      return where((c) => {
        if (c.kind !== "grant") return false;
        const info = c.info ?? {};
        if (on === "schema") return info.on === "schema" && info.object === quoteIdent(o.name);
        if (on === "function") return (info.on === "function" || info.on === "procedure") && String(info.object).startsWith(`${own}(`);
        return (info.on !== "schema" && info.on !== "function" && info.on !== "procedure" && info.object === own) || (info.on === "column" && info.table === own);
      }, [shadow, live]);
    }
  }
}

const WORD: Record<string, string> = {
  schema: "schema", table: "table", column: "column", constraint: "constraint", index: "index", function: "function", view: "view",
  materialized_view: "materialized view", trigger: "trigger", rls: "row level security on", policy: "policy", grant: "grant",
  enum: "type", domain: "domain", composite_type: "type", range_type: "type", sequence: "sequence", extension: "extension", publication: "publication",
};

const FIELD_WORD: Record<string, string> = {
  not_null: "NOT NULL", security_definer: "SECURITY DEFINER", with_check: "WITH CHECK", using: "USING", config: "settings (search_path…)",
};

const text = (v: unknown): string => (v === null || v === undefined ? "none" : Array.isArray(v) ? v.join(", ") || "none" : String(v));

/** One line per difference, live first: "column public.orders.total: text live, numeric in the file". */
export function describeDefinitionDifference(d: SchemaDifference): string[] {
  const what = `${WORD[d.kind] ?? d.kind} ${d.object}`;
  if (d.change === "missing") return [`${what}: missing live`];
  if (d.kind === "grant") return [d.message.replace(/^grant /, "grant ")];
  if (d.change === "extra") return [`${what}: live only (the migrations do not build it)`];
  const e = d.expected ?? {}, a = d.actual ?? {};
  return (d.fields ?? []).map((f) => {
    switch (f) {
      case "body_hash":
        return `${what}: body differs`;
      case "type":
        return `${what}: ${text(a.type)} live, ${text(e.type)} in the file`;
      case "not_null":
        return `${what}: ${a.not_null ? "NOT NULL" : "nullable"} live, ${e.not_null ? "NOT NULL" : "nullable"} in the file`;
      case "security_definer":
        return `${what}: ${a.security_definer ? "SECURITY DEFINER" : "SECURITY INVOKER"} live, ${e.security_definer ? "SECURITY DEFINER" : "SECURITY INVOKER"} in the file`;
      case "permissive":
        return `${what}: ${a.permissive ? "PERMISSIVE" : "RESTRICTIVE"} live, ${e.permissive ? "PERMISSIVE" : "RESTRICTIVE"} in the file`;
      case "using":
      case "with_check":
        return `${what}: ${FIELD_WORD[f]} (${text(a[f])}) live, (${text(e[f])}) in the file`;
      case "enabled":
        if (d.kind === "rls") return `${what}: ${a.enabled ? "enabled" : "disabled"} live, ${e.enabled ? "enabled" : "disabled"} in the file`;
        return `${what}: enabled ${text(a.enabled)} live, ${text(e.enabled)} in the file`;
      case "forced":
        return `${what}: ${a.forced ? "forced" : "not forced"} live, ${e.forced ? "forced" : "not forced"} in the file`;
      case "definition":
        if (d.kind === "view" || d.kind === "materialized_view") return `${what}: definition differs`;
        return `${what}: ${text(a.definition)} live, ${text(e.definition)} in the file`;
      case "labels":
        return `${what}: labels (${text(a.labels)}) live, (${text(e.labels)}) in the file`;
      default:
        return `${what}: ${FIELD_WORD[f] ?? f} ${text(a[f])} live, ${text(e[f])} in the file`;
    }
  });
}

/** Presence by name, from the live catalog alone (for unknown verdicts, which still say what is there). */
function presenceOnly(touched: readonly TouchedObject[], live: ReadonlyMap<string, CatalogObject>): EvidenceObject[] {
  const none = new Map<string, CatalogObject>();
  return touched.map((o) => ({ kind: o.kind, name: describeObject(o), present: catalogKeys(o, none, live).some((k) => live.has(k)) }));
}

function index(snapshot: CatalogSnapshot): Map<string, CatalogObject> {
  return new Map(snapshot.objects.map((o) => [keyOf(o), o]));
}

/**
 * Compares what the migration builds (in the shadow) with the live database,
 * on the objects it creates or alters only.
 *
 * @example
 * judgeDefinitions({ migration, shadow, live, now: new Date() }).verdict // "different"
 */
export function judgeDefinitions(input: DefinitionInput): Evidence {
  const { migration } = input;
  const touched = extractTouchedObjects(migration.statements);
  const coverage = statementCoverage(migration.statements);
  const liveIndex = index(input.live);
  const notes: string[] = [];
  if (coverage.data) notes.push(`${coverage.data} statement(s) change data; data is not compared`);
  const base = { basis: "definition" as const, ...(notes.length ? { notes } : {}) };

  if (input.replayFailure !== undefined || !input.shadow) {
    return {
      verdict: "unknown",
      ...base,
      reason: `the shadow cannot replay it: ${input.replayFailure ?? "no shadow"}`,
      objects: presenceOnly(touched, liveIndex),
    };
  }
  if (!touched.length) {
    return {
      verdict: "unknown",
      ...base,
      reason: coverage.unchecked.length
        ? `its statements are not understood (${coverage.unchecked.slice(0, 3).join(", ")}), so their effects cannot be compared`
        : "it creates or alters no object that the catalog can show",
      objects: [],
    };
  }

  const shadowIndex = index(input.shadow);
  const perObject = touched.map((o) => ({ o, keys: catalogKeys(o, shadowIndex, liveIndex) }));
  const keys = new Set(perObject.flatMap((p) => p.keys));
  const pick = (idx: Map<string, CatalogObject>) => [...keys].map((k) => idx.get(k)).filter((x): x is CatalogObject => x !== undefined);
  const cmp = compareSnapshots(
    { server_version_num: input.shadow.server_version_num, objects: pick(shadowIndex) },
    { server_version_num: input.live.server_version_num, objects: pick(liveIndex) },
  );
  cmp.all = cmp.all.flatMap((d) => ignoreBodyFormatting(d, cmp));
  const byKey = new Map(cmp.all.map((d) => [`${d.kind}:${d.object}`, d]));

  const objects: EvidenceObject[] = perObject.map(({ o, keys }) => {
    const diffs = keys.map((k) => byKey.get(k)).filter((d): d is SchemaDifference => d !== undefined);
    const liveKeys = keys.filter((k) => liveIndex.has(k));
    const present = liveKeys.length > 0;
    const missingAll = keys.length === 0 || (!present && diffs.every((d) => d.change === "missing"));
    const state = missingAll ? "missing" : diffs.length ? "different" : "identical";
    const lines = state === "different" ? diffs.flatMap(describeDefinitionDifference) : [];
    return { kind: o.kind, name: describeObject(o), present, state, ...(lines.length ? { differences: lines } : {}) };
  });

  const differences = [...new Set(objects.flatMap((x) => x.differences ?? []))];
  const states = new Set(objects.map((x) => x.state));
  let verdict: Evidence["verdict"];
  if (states.has("different")) verdict = "different";
  else if (coverage.unchecked.length) verdict = "unknown";
  else if (states.size === 1 && states.has("identical")) verdict = "identical";
  else if (states.size === 1 && states.has("missing")) verdict = "absent";
  else verdict = "partial";

  const evidence: Evidence = { verdict, ...base, objects };
  if (differences.length) evidence.differences = differences;
  if (verdict === "unknown") {
    evidence.reason = `${coverage.unchecked.slice(0, 3).join(", ")}${coverage.unchecked.length > 3 ? ", …" : ""} not understood, so their effects cannot be compared`;
  }
  if (verdict === "different") {
    const live = liveDefinitionMigration(cmp, input.now, input.migrationsDir, migration.version);
    if (live) evidence.live_migration = live;
  }
  return evidence;
}

/**
 * schema-diff's suggested SQL for the changed objects only: a migration that
 * records what the live database has. Objects missing live are not dropped.
 */
function liveDefinitionMigration(cmp: Comparison, now: Date, migrationsDir: string | undefined, version: string): Evidence["live_migration"] | undefined {
  const kept = cmp.all.filter((d) => d.change !== "missing");
  if (!kept.length) return undefined;
  const suggested = suggestMigration({ ...cmp, all: kept, differences: kept }, now, migrationsDir);
  if (!suggested.sql || !suggested.file) return undefined;
  const file = suggested.file.replace(/_schema_drift\.sql$/, `_record_live_definitions_${version}.sql`);
  const stamp = /(\d{14})_record_live_definitions_/.exec(file)?.[1] ?? "";
  const sql = suggested.sql.replace(/^-- drift-guard schema-diff: .*$/m, `-- drift-guard: what the live database has for the objects ${version} creates (${now.toISOString()}).`);
  return { file, version: stamp, sql, notes: suggested.notes.filter((n) => !/^The live database already has these changes/.test(n)) };
}

/**
 * A function body as text, compared the way its language reads it: comments
 * dropped, whitespace collapsed, and case folded outside literals and quoted
 * identifiers (SQL and PL/pgSQL keywords and names are case-insensitive).
 *
 * @example
 * canonicalBody("SELECT a  -- x\n") === canonicalBody("select A;") // true
 */
export function canonicalBody(body: string): string {
  const c = canonicalSql(body).replace(/[\s;]+$/, "");
  const { literals } = scanSql(c);
  let out = "";
  let pos = 0;
  for (const [s, e] of literals) {
    out += c.slice(pos, s).toLowerCase() + c.slice(s, e);
    pos = e;
  }
  return out + c.slice(pos).toLowerCase();
}

/** The body between pg_get_functiondef's dollar quotes (null for SQL-standard bodies, which are deparsed). */
function functionBody(definition: unknown): string | null {
  if (typeof definition !== "string") return null;
  const m = /\bAS (\$[A-Za-z0-9_]*\$)([\s\S]*)\1\s*$/.exec(definition);
  return m ? m[2] : null;
}

/** A body that differs only in formatting is not a difference. */
function ignoreBodyFormatting(d: SchemaDifference, cmp: Comparison): SchemaDifference[] {
  if (d.kind !== "function" || d.change !== "changed" || !d.fields?.includes("body_hash")) return [d];
  const k = `${d.kind}:${d.object}`;
  const e = functionBody(cmp.expected.get(k)?.info?.definition);
  const a = functionBody(cmp.actual.get(k)?.info?.definition);
  if (e === null || a === null || canonicalBody(e) !== canonicalBody(a)) return [d];
  const fields = d.fields.filter((f) => f !== "body_hash");
  if (!fields.length) return [];
  const pick = (o: Record<string, unknown> | null) => (o ? Object.fromEntries(Object.entries(o).filter(([f]) => f !== "body_hash")) : o);
  return [{ ...d, fields, expected: pick(d.expected), actual: pick(d.actual) }];
}

/**
 * The order evidence by definition replays in: every local migration that is in the history
 * or out of order, by version (what the live database should have been built from), then
 * the pending ones (newer than the newest applied), read separately so that a migration not
 * yet pushed never makes an older one look different. Both are prefixes of the files in
 * version order.
 *
 * @example evidencePhases(local, new Set(["001", "002"])).applied.length // 2 when 003 is pending
 */
export function evidencePhases(local: readonly LocalMigration[], remoteVersions: ReadonlySet<string>): { applied: LocalMigration[]; pending: LocalMigration[] } {
  const newestRemote = [...remoteVersions].sort(compareVersions).at(-1);
  const isPending = (m: LocalMigration) => !remoteVersions.has(m.version) && (newestRemote === undefined || compareVersions(m.version, newestRemote) > 0);
  const ordered = [...local].sort((a, b) => compareVersions(a.version, b.version));
  return { applied: ordered.filter((m) => !isPending(m)), pending: ordered.filter(isPending) };
}
