/**
 * The shapes of schema drift: catalog snapshots (what db/catalog.ts reads, the
 * same SQL on every server), differences, and the report.
 *
 * expected = the shadow built by replaying the local migrations
 * actual   = the live database
 * missing  = in the shadow, not live;  extra = live only;  changed = both, different.
 */
import type { Problem } from "../types.ts";

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
    /** live_ms (the live catalog, platform settings and skeleton), shadow_start_ms (since start; the two overlap), bootstrap_ms, replay_ms, shadow_catalog_ms. */
    timings?: Record<string, number>;
  };
  live: { server_version_num: number };
  schemas: SchemaFilter;
}

