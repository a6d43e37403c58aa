/** Which schemas a comparison covers: the defaults leave the platform's out. */
import { DriftGuardError } from "../types.ts";
import { PLATFORM_SCHEMA_NAMES } from "../platform_schemas.ts";
import { quoteIdent } from "./sql_quote.ts";
import type { CatalogObject, SchemaFilter } from "./types.ts";

/** Supabase-managed schemas (shared/platform_schemas.ts): never built by the project's migrations. pg_* and information_schema are always out. */
export const DEFAULT_EXCLUDED_SCHEMAS: string[] = [...PLATFORM_SCHEMA_NAMES];

/**
 * Extensions are compared in every schema but pg_* (pg_catalog is compared: pg_cron lives
 * there): in the platform schemas too (the dashboard enables them in `extensions`), unless --include-schema narrows
 * the comparison or the user excluded the schema (db/catalog.ts does the same in SQL).
 * @example extensionCompared(schemaFilter(undefined, undefined), "extensions") // true
 */
export function extensionCompared(filter: SchemaFilter, schema: string): boolean {
  if (/^pg_/.test(schema) && schema !== "pg_catalog") return false;
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

