/** The extension writer of the suggested migration (shared/schema_diff/suggest/extension.ts). */
import { describe, expect, it } from "vitest";
import { type CatalogSnapshot, compareSnapshots, extensionCompared, schemaFilter, suggestMigration } from "../shared/schema_diff.ts";

const ext = (schema: string, relocatable: boolean): CatalogSnapshot => ({
  server_version_num: 150000,
  objects: [{ kind: "extension", name: "pg_cron", parent: `schema:${schema}`, props: { schema }, info: { version: "1.6", relocatable } }],
});

describe("suggested migration: extensions", () => {
  it("an extension in pg_catalog on one side is compared, so a schema difference is 'changed', never an extra that a no-op create would not fix", () => {
    expect(extensionCompared(schemaFilter(undefined, undefined), "pg_catalog")).toBe(true);
    expect(extensionCompared(schemaFilter(undefined, undefined), "pg_toast")).toBe(false);
    const cmp = compareSnapshots(ext("extensions", false), ext("pg_catalog", false));
    expect(cmp.differences.map((d) => [d.change, d.kind, d.object, d.fields])).toEqual([["changed", "extension", "pg_cron", ["schema"]]]);
  });

  it("a relocatable extension moves with alter extension … set schema; one that is not gets a note as well", () => {
    const moved = suggestMigration(compareSnapshots(ext("extensions", true), ext("public", true)), new Date("2026-01-01T00:00:00Z"));
    expect(moved.sql).toContain("alter extension pg_cron set schema public;");
    expect(moved.notes.join("\n")).not.toMatch(/not relocatable/);
    const fixed = suggestMigration(compareSnapshots(ext("extensions", false), ext("pg_catalog", false)), new Date("2026-01-01T00:00:00Z"));
    expect(fixed.sql).toContain("alter extension pg_cron set schema pg_catalog;");
    expect(fixed.sql).not.toMatch(/create extension/);
    expect(fixed.notes.join("\n")).toMatch(/extension pg_cron: it is not relocatable/);
  });
});
