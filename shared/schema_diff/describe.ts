/** What a difference says to a person, and whether it changes who can read or write what. */
import { type CatalogObject, type Change, type ObjectKind, SECURITY_KINDS } from "./types.ts";

export const KIND_WORD: Record<ObjectKind, string> = {
  schema: "schema", extension: "extension", enum: "enum type", domain: "domain", composite_type: "composite type",
  range_type: "range type", sequence: "sequence", table: "table", column: "column", constraint: "constraint", index: "index",
  function: "function", view: "view", materialized_view: "materialized view", trigger: "trigger", rls: "row level security",
  policy: "policy", grant: "grant", publication: "publication membership", owner: "owner of", comment: "comment on",
};

const show = (v: unknown) => (v === null || v === undefined ? "none" : typeof v === "string" ? v : JSON.stringify(v));

export function describe(kind: ObjectKind, object: string, change: Change, expected: CatalogObject | undefined, actual: CatalogObject | undefined, fields: string[]): string {
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

export function isSecurity(kind: ObjectKind, fields: string[], obj: CatalogObject | undefined): boolean {
  if (SECURITY_KINDS.has(kind)) return true;
  if (kind === "function") return fields.includes("security_definer") || fields.includes("config") || obj?.props.security_definer === true;
  if (kind === "view") return fields.includes("options");
  if (kind === "table") return obj?.info?.rls_enabled === false;
  return false;
}
