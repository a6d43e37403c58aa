/**
 * The function under load and bad input, served as `npm run serve` serves it:
 * the concurrency bound (503 + Retry-After, made deterministic by a lock the
 * test holds), a load test at a size the suite can afford under a small V8 heap,
 * 400 (not 500) for values Postgres cannot store, and a 10,000-row undo.
 * Nothing here measures time: speed numbers come from `npm run bench`.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildManifest, type Manifest } from "../shared/manifest.ts";
import { parseMigrationFiles } from "../shared/migration_files.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { type FunctionServer, startFunctionServer } from "./harness/function_server.ts";
import { SCHEMA_MIGRATIONS_DDL } from "./harness/schema_migrations.ts";

const SECRET_KEY = "sb_secret_function_load_0123456789";
const version = (i: number) => String(20200101000000 + i);

function manifestOf(n: number): Manifest {
  const enc = new TextEncoder();
  const files = Array.from({ length: n }, (_, i) => ({
    path: `supabase/migrations/${version(i)}_m${i}.sql`,
    fileName: `${version(i)}_m${i}.sql`,
    bytes: enc.encode(`create table public.t${i} (id bigint primary key, note text);\ncomment on table public.t${i} is 'migration ${i}';\n`),
  }));
  return buildManifest(parseMigrationFiles(files), null, new Date());
}

/** The history as `db push` leaves it for these migrations. */
async function recordHistory(sql: postgres.Sql, manifest: Manifest): Promise<void> {
  await sql.unsafe(SCHEMA_MIGRATIONS_DDL);
  const rows = manifest.migrations.map((m) => ({ version: m.version, name: m.name, statements: m.statements }));
  for (let i = 0; i < rows.length; i += 1000) await sql`insert into supabase_migrations.schema_migrations ${sql(rows.slice(i, i + 1000))}`;
}

async function call(base: string, method: string, route: string, body?: unknown, raw?: string) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { apikey: SECRET_KEY, ...(body !== undefined || raw !== undefined ? { "content-type": "application/json" } : {}) },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: JSON.parse(text), text };
}

describe("the function under load and bad input", () => {
  let db: TestDatabase;
  let server: FunctionServer;
  const manifest = manifestOf(300);

  beforeAll(async () => {
    db = await createTestDatabase("function_load");
    expect((await runCli(["install", "--db-url", db.url])).status).toBe(0);
    await recordHistory(db.sql, manifest);
    server = await startFunctionServer({ SUPABASE_DB_URL: db.url, SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }), DRIFT_GUARD_MAX_CONCURRENT: "4" });
    const put = await call(server.url, "PUT", "/manifest", manifest);
    expect(put.status, put.text).toBe(201);
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it("beyond its bound of concurrent requests, answers 503 overloaded with Retry-After at once, and serves the rest", async () => {
    const holder = await db.sql.reserve();
    let replies: Promise<Awaited<ReturnType<typeof call>>>[] = [];
    try {
      // Every /status waits on this lock, so the first 4 hold the 4 slots until the test lets go.
      await holder.unsafe("begin");
      await holder.unsafe("lock table drift_guard.manifests in access exclusive mode");
      replies = Array.from({ length: 7 }, () => call(server.url, "GET", "/status"));
      const settled: Array<Awaited<ReturnType<typeof call>>> = [];
      replies.forEach((p) => p.then((r) => settled.push(r)));
      // The 3 beyond the bound are answered while the other 4 are still blocked.
      while (settled.length < 3) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      expect(settled.length).toBe(3);
      for (const r of settled) {
        expect(r.status, r.text).toBe(503);
        expect(r.body.error.code).toBe("overloaded");
        expect(r.retryAfter).toBe("1");
      }
    } finally {
      await holder.unsafe("rollback").catch(() => {});
      holder.release();
    }
    const all = await Promise.all(replies);
    expect(all.filter((r) => r.status === 200)).toHaveLength(4);
    expect(all.filter((r) => r.status === 503)).toHaveLength(3);
  });

  it("400, not 500, for a reason with NUL, a malformed audit id, and a manifest with NUL", async () => {
    const nulReason = await call(server.url, "POST", "/repair", { mark_reverted: [version(0)], reason: "oops\u0000" });
    expect(nulReason.status, nulReason.text).toBe(400);
    const nulReasonUndo = await call(server.url, "POST", "/repair/undo", { audit_id: "7f50813c-009a-41e3-9616-ec72f847c37a", reason: "a\u0000b" });
    expect(nulReasonUndo.status, nulReasonUndo.text).toBe(400);
    for (const id of ["-".repeat(36), "0123456789abcdef0123456789abcdef", "7f50813c-009a-41e3-9616-ec72f847c37"]) {
      const r = await call(server.url, "POST", "/repair/undo", { audit_id: id, reason: "test" });
      expect(r.status, r.text).toBe(400);
      expect(r.body.error.code).toBe("bad_input");
    }
    const withNul = structuredClone(manifest);
    withNul.migrations[1].name = "bad\u0000name";
    for (const [method, route] of [["PUT", "/manifest"], ["POST", "/drift"]]) {
      const r = await call(server.url, method, route, withNul);
      expect(r.status, r.text).toBe(400);
      expect(r.body.error.code).toBe("malformed_manifest");
      expect(r.body.error.message).toContain("migrations[1].name");
    }
    // The NUL as a JSON escape in raw text, as a client might send it.
    const raw = JSON.stringify({ mark_reverted: [version(0)], reason: "x" }).replace('"x"', '"x\\u0000"');
    expect((await call(server.url, "POST", "/repair", undefined, raw)).status).toBe(400);
  });

  it("100 concurrent clients calling /status under a 64 MB V8 heap: no crash, every answer 200 or 503 with Retry-After, the same report", async () => {
    const capped = await startFunctionServer({
      SUPABASE_DB_URL: db.url,
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }),
      DENO_V8_FLAGS: "--max-old-space-size=64",
    });
    try {
      const expected = await call(capped.url, "GET", "/status");
      expect(expected.status, expected.text).toBe(200);
      const statuses = new Map<number, number>();
      await Promise.all(Array.from({ length: 100 }, async () => {
        for (let i = 0; i < 2; i++) {
          const r = await call(capped.url, "GET", "/status");
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 503) {
            expect(r.retryAfter).toBe("1");
            expect(r.body.error.code).toBe("overloaded");
          } else {
            expect(r.status, r.text).toBe(200);
            expect(r.body).toEqual(expected.body);
          }
        }
      }));
      expect([...statuses.keys()].every((s) => s === 200 || s === 503)).toBe(true);
      expect((await call(capped.url, "GET", "/health")).status).toBe(200);
      expect(capped.output()).not.toMatch(/out of memory|panicked|uncaught/i);
    } finally {
      await capped.stop();
    }
  });

  it("undoes a 10,000-row repair over HTTP", async () => {
    const other = await createTestDatabase("function_load_undo");
    const served = await startFunctionServer({ SUPABASE_DB_URL: other.url, SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }) });
    try {
      expect((await runCli(["install", "--db-url", other.url])).status).toBe(0);
      const big = manifestOf(10_000);
      await recordHistory(other.sql, big);
      const [{ digest }] = await other.sql`select drift_guard.history_digest() as digest`;
      // A repair that reverted all 10,000 rows, applied by the guarded SQL function itself.
      const changes = big.migrations.map((m) => ({ op: "delete", version: m.version, name: m.name, statements: null }));
      const [{ result }] = await other.sql.unsafe("select drift_guard.apply_repair($1, $2::text::jsonb, 'load test', '{}'::jsonb, null) as result",
        [digest, JSON.stringify(changes)]);
      const [{ n: left }] = await other.sql`select count(*)::int as n from supabase_migrations.schema_migrations`;
      expect(left).toBe(0);

      const undo = await call(served.url, "POST", "/repair/undo", { audit_id: result.audit_id, reason: "put them back" });
      expect(undo.status, undo.text).toBe(200);
      expect(undo.body.history_digest).toBe(digest);
      const [{ n: back }] = await other.sql`select count(*)::int as n from supabase_migrations.schema_migrations`;
      expect(back).toBe(10_000);
    } finally {
      await served.stop();
      await other.drop();
    }
  });
});
