/** db/shadow.ts's initdb cache: one per set of PGlite extensions, and a cache that does not start costs only an initdb. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initdbCacheFile, openEmbeddedShadow, pinnedPgliteVersion } from "../db/shadow.ts";

let cacheDir: string;
let previous: string | undefined;
beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), "drift-guard-cache-test-"));
  previous = process.env.DRIFT_GUARD_CACHE_DIR;
  process.env.DRIFT_GUARD_CACHE_DIR = cacheDir;
});
afterAll(() => {
  if (previous === undefined) delete process.env.DRIFT_GUARD_CACHE_DIR;
  else process.env.DRIFT_GUARD_CACHE_DIR = previous;
  rmSync(cacheDir, { recursive: true, force: true });
});

async function opens(extensions: string[]): Promise<string[]> {
  const shadow = await openEmbeddedShadow(extensions);
  try {
    await shadow.run("select 1");
    return shadow.loaded;
  } finally {
    await shadow.close();
  }
}

describe("the embedded shadow's initdb cache", () => {
  it("keeps one per set of extensions: a data directory made with pg_stat_statements does not serve a run without it", async () => {
    expect(await opens(["pg_stat_statements"])).toEqual(["pg_stat_statements"]);
    expect(existsSync(initdbCacheFile(["pg_stat_statements"])!)).toBe(true);
    expect(initdbCacheFile([])).not.toBe(initdbCacheFile(["pg_stat_statements"]));
    expect(initdbCacheFile(["pg_trgm", "pgcrypto"])).toBe(initdbCacheFile(["pgcrypto", "pg_trgm"]));
    expect(await opens([])).toEqual([]);
    expect(existsSync(initdbCacheFile([])!)).toBe(true);
    expect(await opens(["pg_stat_statements"])).toEqual(["pg_stat_statements"]); // from its own cache
  });

  it("a damaged cache is replaced by a fresh initdb, not an error", async () => {
    const file = initdbCacheFile([])!;
    writeFileSync(file, "not a data directory");
    expect(await opens([])).toEqual([]);
    expect(await opens([])).toEqual([]); // the cache written in its place starts
  });
});

describe("the PGlite version a Deno import map pins (the deployed function has no node_modules)", () => {
  it("reads an exact npm: version, and no other", () => {
    expect(pinnedPgliteVersion("npm:@electric-sql/pglite@0.5.14")).toBe("0.5.14");
    expect(pinnedPgliteVersion("npm:/@electric-sql/pglite@0.5.14/dist/index.js")).toBe("0.5.14");
    expect(pinnedPgliteVersion("npm:@electric-sql/pglite@0.6.0-beta.1")).toBe("0.6.0-beta.1");
    for (const range of ["npm:@electric-sql/pglite@^0.5.14", "npm:@electric-sql/pglite", "npm:@electric-sql/pglite@0.5", "npm:@electric-sql/pglite-pgvector@0.0.15", "jsr:@electric-sql/pglite@0.5.14"]) {
      expect(pinnedPgliteVersion(range)).toBeNull();
    }
  });
});
