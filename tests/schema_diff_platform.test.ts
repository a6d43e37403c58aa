/**
 * schema-diff on Supabase-shaped projects (issue 13): every migration set is pushed with the real
 * Supabase CLI onto a PostgreSQL 15 that has what a hosted project has before its first migration
 * (tests/harness/platform_postgres.ts), then compared with both shadows:
 *  - embedded (PGlite);
 *  - --shadow-url, a bare database (createdb: no platform schemas, no platform extensions);
 *  - --shadow-url, a platform-shaped database (what `supabase start` makes before migrations).
 * Each failure kind of the issue has its reduction here; each fails on the code before the fix.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "./harness/database.ts";
import { type CliResult, driftGuard } from "./harness/drift_guard_cli.ts";
import { type PlatformServer, startPlatformPostgres } from "./harness/platform_postgres.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const CACHE_DIR = join(tmpdir(), "drift-guard-test-pglite-cache");
const ENV = { DRIFT_GUARD_CACHE_DIR: CACHE_DIR };

let platform: PlatformServer;
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  platform = await startPlatformPostgres();
}, 120_000);
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  platform?.destroy();
});

function schemaDiff(args: string[], cwd: string): CliResult & { json: any } {
  const r = driftGuard(["schema-diff", ...args], { cwd, env: ENV });
  let json: any = null;
  try {
    json = JSON.parse(r.stdout);
  } catch { /* not json */ }
  return { ...r, json };
}

const summaryOf = (json: any) => json.schema.differences.map((d: any) => [d.change, d.kind, d.object, ...(d.fields ? [d.fields] : [])]);

/** A platform-shaped live database with the migrations pushed by the Supabase CLI. */
async function pushed(files: Record<string, string>): Promise<{ live: Awaited<ReturnType<PlatformServer["database"]>>; dir: string }> {
  const live = await platform.database("live");
  cleanups.push(() => live.drop());
  const dir = makeProject(files);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  supabasePush(live.url, dir);
  return { live, dir };
}

/** --shadow-url targets: a bare database on the plain server, and a platform-shaped one. */
async function bareShadow(): Promise<string> {
  const db = await createTestDatabase("sdp_bare");
  cleanups.push(() => db.drop());
  return db.url;
}
async function platformShadow(): Promise<string> {
  const db = await platform.database("shadow");
  cleanups.push(() => db.drop());
  return db.url;
}

/** All three shadows: each result, labelled. */
async function everyShadow(liveUrl: string, dir: string, extra: string[] = []): Promise<Array<[string, CliResult & { json: any }]>> {
  return [
    ["embedded", schemaDiff(["--db-url", liveUrl, "--format", "json", ...extra], dir)],
    ["bare --shadow-url", schemaDiff(["--db-url", liveUrl, "--shadow-url", await bareShadow(), "--format", "json", ...extra], dir)],
    ["platform --shadow-url", schemaDiff(["--db-url", liveUrl, "--shadow-url", await platformShadow(), "--format", "json", ...extra], dir)],
  ];
}

function expectInSync(results: Array<[string, CliResult & { json: any }]>) {
  for (const [label, r] of results) {
    expect({ label, stderr: r.stderr, status: r.status, differences: r.json && summaryOf(r.json) }).toEqual({ label, stderr: "", status: 0, differences: [] });
  }
}

describe("1. extensions the platform preinstalls", () => {
  it("a migration that uses uuid-ossp and pgcrypto without creating them replays on every shadow", async () => {
    const { live, dir } = await pushed({
      "20250101000000_items.sql": "create table public.items (id uuid primary key default uuid_generate_v4(), token text default encode(gen_random_bytes(8),'hex'));",
    });
    const results = await everyShadow(live.url, dir);
    expectInSync(results);
    // PGlite and the bare database lack pgjwt, pg_graphql and supabase_vault: stand-ins, each a warning.
    for (const [, r] of results.slice(0, 2)) {
      expect(r.json.problems.map((p: any) => p.message).join("\n")).toMatch(/extension pg_graphql \(schema graphql\) is a stand-in/);
    }
    // The platform-shaped shadow has them all.
    expect(results[2][1].json.problems).toEqual([]);
  });
});
