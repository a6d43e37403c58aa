/**
 * What a writer of the suggested migration gets: one difference, the object it
 * is about, and the ways to emit SQL (ordered by phase) or a note instead.
 */
import type { Comparison } from "../compare.ts";
import type { CatalogObject, ObjectKind, SchemaDifference } from "../types.ts";

/** Phases: drops first (children before parents), then creates in dependency order. */
export const CREATE_PHASE: Record<ObjectKind, number> = {
  schema: 10, extension: 11, enum: 12, domain: 13, composite_type: 14, range_type: 15, sequence: 16, table: 20, column: 21,
  constraint: 22, index: 24, function: 30, view: 31, materialized_view: 32, trigger: 33, rls: 40, policy: 41, grant: 42, publication: 43,
  owner: 44, comment: 45,
};
export const FK_PHASE = 23;
/** After indexes: `replica identity using index` needs its index. */
export const REPLICA_IDENTITY_PHASE = 25;

export interface WriterContext {
  d: SchemaDifference;
  /** The live object (the shadow's when missing). */
  o: CatalogObject;
  p: Record<string, unknown>;
  info: Record<string, unknown>;
  /** This kind's create phase. */
  phase: number;
  cmp: Comparison;
  /** Every difference by kind:name, children included. */
  byKey: ReadonlyMap<string, SchemaDifference>;
  keyOf(d: SchemaDifference): string;
  add(phase: number, ...sql: string[]): void;
  drop(kind: ObjectKind, sql: string): void;
  /** A note instead of SQL: what could not be derived safely, and why. */
  cannot(d: SchemaDifference, why: string): void;
  notes: string[];
}

/** Writes the SQL (or notes) for one difference of its kind. */
export type Writer = (c: WriterContext) => void;

export function columnDefinition(column: string, p: Record<string, unknown>): string {
  const parts = [column, String(p.type)];
  if (p.collation) parts.push(`collate ${p.collation}`);
  if (p.generated) parts.push(`generated always as (${p.generated}) stored`);
  if (p.identity) parts.push(`generated ${p.identity} as identity`);
  if (p.default != null) parts.push(`default ${p.default}`);
  if (p.not_null) parts.push("not null");
  return parts.join(" ");
}

export function grantTarget(info: Record<string, unknown>): string {
  const on = String(info.on);
  if (on === "column") return `table ${info.table}`;
  return `${on} ${info.object}`;
}

export function privilegeList(privileges: string[], info: Record<string, unknown>): string {
  const list = privileges.join(", ").toLowerCase();
  return info.on === "column" ? privileges.map((x) => `${x.toLowerCase()} (${info.column})`).join(", ") : list;
}

