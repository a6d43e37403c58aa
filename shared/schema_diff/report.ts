/** The whole pipeline on two snapshots: what the CLI prints. */
import type { Problem } from "../types.ts";
import { compareSnapshots, summarize } from "./compare.ts";
import { suggestMigration } from "./suggest/suggest.ts";
import type { CatalogSnapshot, SchemaDiffReport, SchemaFilter } from "./types.ts";

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
