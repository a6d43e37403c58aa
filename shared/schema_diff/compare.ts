/** Two snapshots in, differences out: children of a missing or extra object fold into it. */
import { equal } from "./canonical_json.ts";
import { describe, isSecurity } from "./describe.ts";
import { normalizeSnapshot } from "./normalize.ts";
import { quoteIdent } from "./sql_quote.ts";
import { type CatalogObject, type CatalogSnapshot, type Change, type ObjectKind, OBJECT_KINDS, type SchemaDifference, type SchemaSummary } from "./types.ts";

const key = (o: { kind: string; name: string }) => `${o.kind}:${o.name}`;

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
