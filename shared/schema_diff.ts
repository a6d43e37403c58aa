/**
 * Schema drift, the pure part: two catalog snapshots in, differences out, and
 * the migration that would record the live database's changes. One module per
 * concern under shared/schema_diff/:
 *
 *   types.ts           snapshots, differences, the report
 *   filter.ts          which schemas are compared (the platform's are left out)
 *   normalize.ts       facts an older server cannot express, dropped from both sides
 *   compare.ts         snapshots -> differences, folded and summarized
 *   describe.ts        what a difference says, and whether it is about security
 *   sql_quote.ts       identifiers and literals for the suggested SQL
 *   suggest/           the suggested migration: one writer per object kind
 *   report.ts          the whole pipeline: what the CLI prints
 *   fingerprint.ts     GET /schema's body and its digest
 *
 * This file re-exports them, so callers import one name.
 */
export {
  type CatalogObject,
  type CatalogSnapshot,
  type Change,
  OBJECT_KINDS,
  type ObjectKind,
  type SchemaDiffReport,
  type SchemaDifference,
  type SchemaFilter,
  type SchemaSummary,
  SECURITY_KINDS,
  type SuggestedMigration,
} from "./schema_diff/types.ts";
export { apiSchemaFilter, ATTACHED_SCHEMAS, DEFAULT_EXCLUDED_SCHEMAS, extensionCompared, schemaFilter, standInExtensionObject } from "./schema_diff/filter.ts";
export { normalizeSnapshot } from "./schema_diff/normalize.ts";
export { type CompareOptions, compareSnapshots, type Comparison, diffSnapshots, summarize } from "./schema_diff/compare.ts";
export { quoteIdent, quoteLiteral } from "./schema_diff/sql_quote.ts";
export { suggestMigration } from "./schema_diff/suggest/suggest.ts";
export { buildSchemaReport } from "./schema_diff/report.ts";
export { schemaDigest, type SchemaFingerprint, schemaFingerprint } from "./schema_diff/fingerprint.ts";
