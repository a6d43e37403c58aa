/**
 * The replay cache (db/shadow/replay_cache.ts): a check reads what an earlier clean replay of
 * the same files on the same platform built, and anything else in the key is a miss.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMigrationsDir } from "../cli/local_migrations.ts";
import { postgresCatalog, readPlatformSettings } from "../db/catalog.ts";
import { cachedReplay, readReplayCache, replayCacheFile, writeReplayCache } from "../db/shadow/replay_cache.ts";
import { createdExtension } from "../db/shadow.ts";
import type { CatalogSnapshot } from "../shared/schema_diff.ts";
import { runCli } from "./harness/cli_in_process.ts";
import postgres from "postgres";
import { type PgServer, startPostgres } from "./harness/postgres.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const cacheDir = mkdtempSync(join(tmpdir(), "drift-guard-replay-cache-test-"));
const before = process.env.DRIFT_GUARD_CACHE_DIR;
// A server of its own: the key holds the cluster's roles, which other suites create and drop on the shared one.
let server: PgServer;
let db: { url: string; sql: postgres.Sql };
const made: string[] = [];

beforeAll(async () => {
  process.env.DRIFT_GUARD_CACHE_DIR = cacheDir;
  server = await startPostgres();
  const admin = postgres(server.url(), { onnotice: () => {}, max: 1 });
  await admin.unsafe("create database replay_cache");
  await admin.end();
  db = { url: server.url("replay_cache"), sql: postgres(server.url("replay_cache"), { onnotice: () => {}, max: 2 }) };
  await db.sql.unsafe(readFileSync(join(import.meta.dirname, "harness", "supabase_roles.sql"), "utf8"));
  expect((await runCli(["install", "--db-url", db.url])).status).toBe(0);
}, 120_000);
afterAll(async () => {
  if (before === undefined) delete process.env.DRIFT_GUARD_CACHE_DIR;
  else process.env.DRIFT_GUARD_CACHE_DIR = before;
  await db?.sql.end({ timeout: 1 });
  server?.destroy();
  for (const dir of [...made, cacheDir]) rmSync(dir, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const dir = makeProject(files);
  made.push(dir);
  return dir;
}

const entries = () => readdirSync(cacheDir).filter((f) => f.startsWith("replay-"));
const check = async (dir: string) => {
  const r = await runCli(["check", "--format", "json"], { cwd: dir, env: { SUPABASE_DB_URL: db.url } });
  expect([0, 1], r.stderr).toContain(r.status);
  return JSON.parse(r.stdout);
};

async function keyOf(dir: string): Promise<string> {
  const { migrations } = await readMigrationsDir(join(dir, "supabase/migrations"));
  const settings = await readPlatformSettings(postgresCatalog(db.sql));
  const extensions = migrations.flatMap((m) => m.statements.map(createdExtension).filter((e): e is string => e !== null));
  return replayCacheFile(migrations, settings, extensions)!;
}

describe("the replay cache", () => {
  const A = "create table public.cached_a (id bigint primary key);\n";
  const B = "create table public.cached_b (id bigint primary key, a bigint references public.cached_a (id));\n";

  it("a second check of the same repository reads the replay the first one kept, and reports the same", async () => {
    const dir = project({ "20260101000000_a.sql": A });
    supabasePush(db.url, dir);
    writeFileSync(join(dir, "supabase/migrations/20260102000000_b.sql"), B);
    const first = await check(dir);
    expect(first.replay).toMatchObject({ status: "ok" });
    const file = await keyOf(dir);
    expect(entries()).toContain(file.slice(cacheDir.length + 1));
    expect((await check(dir)).replay).toEqual(first.replay);
    expect((await check(dir)).migrations).toEqual(first.migrations);
  });

  it("what the entry says is what check reports (the cache is read) unless others may write it, and another statement is another key", async () => {
    const dir = project({ "20260101000000_a.sql": A, "20260102000000_b.sql": B });
    await check(dir);
    const file = await keyOf(dir);
    // An entry, as a clean replay would have kept it, whose catalog has one table more than the files build.
    const entry = readReplayCache(file, [1]);
    expect(entry).not.toBeNull();
    const ghost = structuredClone(entry!.snapshots.get(1)!) as CatalogSnapshot;
    ghost.objects.push({ kind: "table", name: "public.ghost", props: {} });
    writeReplayCache(file, { snapshots: new Map([...entry!.snapshots, [1, ghost]]), spellings: entry!.spellings, clean: true });
    expect((await check(dir)).replay.summary).toContain("public.ghost");
    // An entry others may write is not believed: the files are replayed again, and the entry rewritten as this user's alone.
    chmodSync(file, 0o666);
    expect((await check(dir)).replay.summary).not.toContain("ghost");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeReplayCache(file, { snapshots: new Map([...entry!.snapshots, [1, ghost]]), spellings: entry!.spellings, clean: true });

    writeFileSync(join(dir, "supabase/migrations/20260102000000_b.sql"), B.replace("bigint references", "integer references"));
    expect(await keyOf(dir)).not.toBe(file);
    expect((await check(dir)).replay.summary).not.toContain("ghost");
  });

  it("a damaged entry is a miss: the files are replayed, and the report is right", async () => {
    const dir = project({ "20260101000000_a.sql": A, "20260102000000_b.sql": B });
    const file = await keyOf(dir);
    writeFileSync(file, "{ not json");
    expect((await check(dir)).replay).toMatchObject({ status: "ok" });
    expect(JSON.parse(readFileSync(file, "utf8")).format).toMatch(/replay cache/);
  });

  it("where a replay stopped is kept too: the same failure, its line read from the file as it is now", async () => {
    const broken = "create table public.lines (id bigint, invoice bigint references public.invoices (id));\n";
    const dir = project({ "20260101000000_a.sql": A, "20260103000000_lines.sql": broken });
    const first = (await check(dir)).replay;
    expect(first).toMatchObject({ status: "failed", line: 1 });
    const file = await keyOf(dir);
    expect(readReplayCache(file, [])?.failure).toMatchObject({ index: 1, statement: 1 });
    expect((await check(dir)).replay).toEqual(first);
    // Blank lines before it: the same statements (the same key), the failure three lines down.
    writeFileSync(join(dir, "supabase/migrations/20260103000000_lines.sql"), `\n\n\n${broken}`);
    expect(await keyOf(dir)).toBe(file);
    expect((await check(dir)).replay).toEqual({ ...first, line: 4, summary: first.summary.replace(":1 ", ":4 ") });
  });

  it("the key: the same for another history, another for other roles or other files; no key with the cache off", async () => {
    const dir = project({ "20260101000000_a.sql": A });
    const { migrations } = await readMigrationsDir(join(dir, "supabase/migrations"));
    const settings = await readPlatformSettings(postgresCatalog(db.sql));
    const key = replayCacheFile(migrations, settings, []);
    expect(replayCacheFile(migrations, { ...settings, applied_versions: ["20990101000000"] }, [])).toBe(key);
    expect(replayCacheFile(migrations, { ...settings, roles: [...settings.roles, "someone_else"] }, [])).not.toBe(key);
    expect(replayCacheFile(migrations, settings, ["pgcrypto"])).not.toBe(key);
    expect(replayCacheFile([{ ...migrations[0], version: "20260101000001" }], settings, [])).not.toBe(key);
    process.env.DRIFT_GUARD_CACHE_DIR = "off";
    try {
      expect(replayCacheFile(migrations, settings, [])).toBeNull();
    } finally {
      process.env.DRIFT_GUARD_CACHE_DIR = cacheDir;
    }
  });

  it("a live view whose text the cached replay never re-deparsed is a miss, and live is left as it was", () => {
    const file = join(cacheDir, `replay-${"0".repeat(64)}.json`);
    const shadowView = { kind: "view" as const, name: "public.v", props: { definition: " SELECT 1 AS one;" } };
    writeReplayCache(file, { snapshots: new Map([[1, { server_version_num: 170000, objects: [shadowView] }]]), spellings: new Map([[1, new Map([["SELECT 1 AS one;", " SELECT 1 AS one;"]])]]), clean: true });
    const live = (definition: string): CatalogSnapshot => ({ server_version_num: 150000, objects: [{ kind: "view", name: "public.v", props: { definition } }] });

    const known = live("SELECT 1 AS one;");
    expect(cachedReplay(file, [1], known)).not.toBeNull();
    expect(known.objects[0].props.definition).toBe(" SELECT 1 AS one;");

    const unknown = live("SELECT 2 AS two;");
    expect(cachedReplay(file, [1], unknown)).toBeNull();
    expect(unknown.objects[0].props.definition).toBe("SELECT 2 AS two;");
    expect(cachedReplay(file, [1, 2], live("SELECT 1 AS one;"))).toBeNull();
  });
});
