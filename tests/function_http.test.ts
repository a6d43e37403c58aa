/**
 * The migration-drift function over real HTTP: served as `npm run serve` serves it,
 * against a real database installed by the real CLI, driven by curl-like requests
 * and by the CLI's own --url client.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { createToken, runCli } from "./harness/cli_in_process.ts";
import { DENO, type FunctionServer, ROOT, startFunctionServer } from "./harness/function_server.ts";
import { type PgServer, startPostgres, SUPERUSER_PASSWORD } from "./harness/postgres.ts";
import { makeProject, supabaseList, supabasePush } from "./harness/supabase_cli.ts";

const SECRET_KEY = "sb_secret_function_http_0123456789";
const A = "20240101000000";
const B = "20240102000000";
const C = "20240103000000";
const MIB = 1024 * 1024;

interface Reply {
  status: number;
  body: any;
  text: string;
}

async function call(base: string, method: string, route: string, opts: { token?: string; apikey?: string; body?: unknown; raw?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.apikey) headers.apikey = opts.apikey;
  const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${route}`, { method, headers, body });
  expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

/** The contract's error shape, and nothing an attacker or a log should see. */
function expectSafeError(res: Reply, status: number, code: string, secrets: string[]) {
  expect(res.status, res.text).toBe(status);
  expect(Object.keys(res.body)).toEqual(["error"]);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe("string");
  expect(Object.keys(res.body.error).every((k) => ["code", "message", "hint"].includes(k))).toBe(true);
  for (const secret of [...secrets, SUPERUSER_PASSWORD, encodeURIComponent(SUPERUSER_PASSWORD)]) expect(res.text).not.toContain(secret);
  expect(res.text).not.toMatch(/postgres(ql)?:\/\//i);
  expect(res.text).not.toMatch(/(\n|\\n)\s*at \S|file:\/\/|\.[jt]s:\d+:\d+/);
  expect(res.text).not.toMatch(/\b(select|insert|update|delete)\b[^"]*\b(from|into|set)\b/i);
  expect(res.text).not.toMatch(/\bdrift_guard\.\w+\(|schema_migrations/);
}

async function install(url: string) {
  const r = await runCli(["install", "--db-url", url]);
  expect(r.status, r.stderr).toBe(0);
}

describe("the function over HTTP", () => {
  let db: TestDatabase;
  let server: FunctionServer;
  let project: string;
  let read: string, deploy: string, repair: string;
  let secrets: string[];

  beforeAll(async () => {
    db = await createTestDatabase("function_http");
    await install(db.url);
    read = await createToken(db.url, "read", "ci-read");
    deploy = await createToken(db.url, "deploy", "ci-deploy");
    repair = await createToken(db.url, "repair", "oncall");
    secrets = [db.url, read, deploy, repair, SECRET_KEY];
    // a and c were pushed with the Supabase CLI; b was run by hand and never recorded.
    project = makeProject({ [`${A}_a.sql`]: "create table public.a (id int);", [`${C}_c.sql`]: "create table public.c (id int);" });
    supabasePush(db.url, project);
    writeFileSync(join(project, `supabase/migrations/${B}_b.sql`), "create table public.b (id int);\ncomment on table public.b is 'by hand';\n");
    await db.sql.unsafe("create table public.b (id int); comment on table public.b is 'by hand'");
    // Above the 50 concurrent calls below: this file checks their answers, function_load.test.ts the bound.
    server = await startFunctionServer({ SUPABASE_DB_URL: db.url, SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }), DRIFT_GUARD_MAX_CONCURRENT: "64" });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it("GET /health: 200 { ok: true } and nothing else, under both prefixes", async () => {
    for (const base of [server.url, `http://127.0.0.1:${server.port}/migration-drift`]) {
      const res = await call(base, "GET", "/health");
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true });
    }
  });

  it("the full repair flow: upload, 409 drift, preview, apply, stale digest, undo, audit", async () => {
    const migrations = join(project, "supabase/migrations");
    expectSafeError(await call(server.url, "GET", "/status", { token: read }), 404, "no_manifest", secrets);

    // Upload with the CLI, as CI does.
    const upload = await runCli(["manifest", "upload", "--url", server.url, "--token", deploy, "--migrations", migrations]);
    expect(upload.status, upload.stderr).toBe(0);
    expect(JSON.parse(upload.stdout).manifest.migration_count).toBe(3);

    const drift = await call(server.url, "GET", "/status", { token: read });
    expect(drift.status).toBe(409);
    expect(drift.body.status).toBe("drift");
    expect(drift.body.summary).toEqual({ in_sync: 2, edited: 0, renamed: 0, pending: 0, out_of_order: 1, remote_only: 0 });
    expect(drift.body.migrations.find((m: any) => m.version === B)).toMatchObject({ state: "out_of_order", evidence: { verdict: "present" } });
    // By name only by default; definitions on demand: what b builds (replayed in the embedded shadow) is what is live.
    // b's DDL ran by hand, so the ledger saw it outside any migration: until a repair links it, that is drift too.
    expect(drift.body.actions.map((a: any) => a.kind)).toEqual(["compare_definitions", "ledger_ack"]);
    expect(drift.body.untracked_changes.map((g: any) => g.object_identity)).toContain("public.b");
    const full = await call(server.url, "GET", "/status?evidence=full", { token: read });
    expect(full.status).toBe(409);
    expect(full.body.migrations.find((m: any) => m.version === B).evidence).toMatchObject({ verdict: "identical", basis: "definition" });
    expect(full.body.actions.map((a: any) => a.kind)).toEqual(["mark_applied", "ledger_ack"]);
    expectSafeError(await call(server.url, "GET", "/status?evidence=all", { token: read }), 400, "bad_input", secrets);
    // The CLI's --url client reads the same report: exit 1 for drift.
    const check = await runCli(["check", "--url", server.url, "--token", read, "--migrations", migrations, "--format", "json"]);
    expect(check.status, check.stderr).toBe(1);
    expect(JSON.parse(check.stdout).history_digest).toBe(drift.body.history_digest);

    const ask = { mark_applied: [B], reason: "ran by hand during the incident" };
    const plan = await call(server.url, "POST", "/repair", { token: repair, body: ask });
    expect(plan.status, plan.text).toBe(200);
    expect(plan.body).toMatchObject({ dry_run: true, history_digest: drift.body.history_digest, changes: [{ op: "insert", version: B, name: "b" }], audit_id: null });

    const applied = await call(server.url, "POST", "/repair", { token: repair, body: { ...ask, expect_digest: plan.body.history_digest, expect_plan_digest: plan.body.plan_digest } });
    expect(applied.status, applied.text).toBe(200);
    expect(applied.body.dry_run).toBe(false);
    expect(applied.body.audit_id).toMatch(/^[0-9a-f-]{36}$/);

    const stale = await call(server.url, "POST", "/repair", { token: repair, body: { ...ask, expect_digest: plan.body.history_digest, expect_plan_digest: plan.body.plan_digest } });
    expectSafeError(stale, 409, "digest_mismatch", secrets);

    const now = await call(server.url, "GET", "/status", { token: read });
    expect(now.status).toBe(200);
    expect(now.body.status).toBe("in_sync");
    // The Supabase CLI agrees that b is now applied, and stored what `db push` would have.
    expect(supabaseList(db.url, project).remote).toEqual([A, B, C]);
    const row = await call(server.url, "GET", `/history/${B}`, { token: read });
    expect(row.status).toBe(200);
    const manifest = JSON.parse((await runCli(["manifest", "build", "--migrations", migrations])).stdout);
    expect(row.body.statements).toEqual(manifest.migrations.find((m: any) => m.version === B).statements);

    const undo = await call(server.url, "POST", "/repair/undo", { token: repair, body: { audit_id: applied.body.audit_id, reason: "wrong call" } });
    expect(undo.status, undo.text).toBe(200);
    expect(undo.body.history_digest).toBe(drift.body.history_digest);
    expect((await call(server.url, "GET", "/status", { token: read })).status).toBe(409);
    expectSafeError(await call(server.url, "GET", `/history/${B}`, { token: read }), 404, "not_found", secrets);

    const audit = await call(server.url, "GET", "/audit", { token: read });
    expect(audit.status).toBe(200);
    expect(audit.body.entries.map((e: any) => [e.kind, e.actor.label, e.reason])).toEqual([
      ["undo", "oncall", "wrong call"],
      ["repair", "oncall", "ran by hand during the incident"],
    ]);
    // The CLI's audit reads the same log.
    expect(JSON.parse((await runCli(["audit", "--db-url", db.url, "--format", "json"])).stdout).map((e: any) => e.id)).toEqual(audit.body.entries.map((e: any) => e.id));
  }, 300_000); // two repairs replay into the embedded shadow

  it("a manifest swapped with a deploy token after review cannot ride on the reviewed plan", async () => {
    const migrations = join(project, "supabase/migrations");
    const upload = async () => expect((await runCli(["manifest", "upload", "--url", server.url, "--token", deploy, "--migrations", migrations])).status).toBe(0);
    const bFile = join(migrations, `${B}_b.sql`);
    const original = readFileSync(bFile, "utf8");
    await upload();
    const ask = { mark_applied: [B], reason: "ran by hand during the incident" };
    const plan = await call(server.url, "POST", "/repair", { token: repair, body: ask });
    expect(plan.status, plan.text).toBe(200);
    expect(plan.body.plan_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(plan.body.changes[0].statements_checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    try {
      writeFileSync(bFile, "grant all on all tables in schema public to anon;\n");
      await upload();
      const attack = await call(server.url, "POST", "/repair", {
        token: repair,
        body: { ...ask, expect_digest: plan.body.history_digest, expect_plan_digest: plan.body.plan_digest },
      });
      expectSafeError(attack, 409, "digest_mismatch", secrets);
      // Without the plan digest the request is refused outright: the history digest does not pin what is written.
      expectSafeError(await call(server.url, "POST", "/repair", { token: repair, body: { ...ask, expect_digest: plan.body.history_digest } }), 400, "bad_input", secrets);
      expectSafeError(await call(server.url, "GET", `/history/${B}`, { token: read }), 404, "not_found", secrets);
    } finally {
      writeFileSync(bFile, original);
      await upload();
    }
  });

  it("every error status is JSON without secrets, SQL or stack traces", async () => {
    const manifest = JSON.parse((await runCli(["manifest", "build", "--migrations", join(project, "supabase/migrations")])).stdout);
    // 400
    expectSafeError(await call(server.url, "POST", "/drift", { token: read, raw: '{"format": "drift-guard.manifest/1",' }), 400, "bad_input", secrets);
    expectSafeError(await call(server.url, "POST", "/drift", { token: read, body: { ...manifest, migrations: "all" } }), 400, "malformed_manifest", secrets);
    expectSafeError(await call(server.url, "POST", "/repair", { token: repair, body: { mark_applied: [B] } }), 400, "usage", secrets);
    expectSafeError(await call(server.url, "POST", "/repair", { token: repair, body: { mark_reverted: ["1"], reason: "x" } }), 400, "unknown_version", secrets);
    expectSafeError(await call(server.url, "POST", "/repair/undo", { token: repair, body: { audit_id: "'; drop table x; --", reason: "x" } }), 400, "bad_input", secrets);
    // 401
    expectSafeError(await call(server.url, "GET", "/status"), 401, "unauthorized", secrets);
    expectSafeError(await call(server.url, "GET", "/status", { token: `${read}x` }), 401, "unauthorized", secrets);
    expectSafeError(await call(server.url, "GET", "/status", { apikey: `${SECRET_KEY}x` }), 401, "unauthorized", secrets);
    // 403
    expectSafeError(await call(server.url, "PUT", "/manifest", { token: read, body: manifest }), 403, "forbidden", secrets);
    expectSafeError(await call(server.url, "POST", "/repair", { token: deploy, body: { mark_applied: [B], reason: "x" } }), 403, "forbidden", secrets);
    // 404
    expectSafeError(await call(server.url, "GET", "/nothing-here", { token: read }), 404, "not_found", secrets);
    expectSafeError(await call(server.url, "GET", "/history/19990101000000", { token: read }), 404, "not_found", secrets);
    expectSafeError(await call(server.url, "POST", "/repair/undo", { token: repair, body: { audit_id: "00000000-0000-4000-8000-000000000000", reason: "x" } }), 404, "not_found", secrets);
    // 409: drift is a report, conflicts are errors
    const drift = await call(server.url, "POST", "/drift", { token: read, body: manifest });
    expect(drift.status).toBe(409);
    expect(drift.body.status).toBe("drift");
    const lockHolder = await db.sql.reserve();
    try {
      await lockHolder.unsafe("select pg_advisory_lock(7225869907141945714)");
      const plan = await call(server.url, "POST", "/repair", { apikey: SECRET_KEY, body: { mark_applied: [B], reason: "x" } });
      expectSafeError(
        await call(server.url, "POST", "/repair", { apikey: SECRET_KEY, body: { mark_applied: [B], reason: "x", expect_digest: plan.body.history_digest, expect_plan_digest: plan.body.plan_digest } }),
        409,
        "lock_held",
        secrets,
      );
    } finally {
      await lockHolder.unsafe("select pg_advisory_unlock_all()");
      lockHolder.release();
    }
    // 413
    expectSafeError(await call(server.url, "PUT", "/manifest", { token: deploy, raw: " ".repeat(8 * MIB + 1) }), 413, "payload_too_large", secrets);
  });

  it("a 32 MiB streamed body: 413 after at most the limit is read; the server never holds the body", async () => {
    /**
     * PUTs up to `total` bytes in 64 KiB chunks without a content-length; stops writing once the answer
     * arrives. It never sends more than `cap` bytes and never ends the request early: a server that
     * waited for the whole body would never answer, so an answer proves it did not need the rest.
     */
    const stream = (total: number, cap = total) =>
      new Promise<{ status: number; body: string; sent: number }>((done, fail) => {
        const req = request(`${server.url}/manifest`, { method: "PUT", headers: { authorization: `Bearer ${deploy}`, "content-type": "application/json" } });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        let answered = false;
        const pump = () => {
          while (!answered && sent < Math.min(total, cap)) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once("drain", pump);
          }
          if (!answered && sent >= total) req.end();
        };
        req.on("response", (res) => {
          answered = true;
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => done({ status: res.statusCode!, body: text, sent }));
        });
        req.on("error", (err) => (answered ? undefined : fail(err)));
        pump();
      });
    const peak = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))![1]) * 1024;

    // Warm up the code paths (and the up-to-8-MiB the server may hold) with a body just over the limit.
    expect((await stream(10 * MIB)).status).toBe(413);
    const before = peak();
    const { status, body, sent } = await stream(32 * MIB, 16 * MIB);
    expect(status).toBe(413);
    expect(JSON.parse(body).error.code).toBe("payload_too_large");
    // Answered with at most half the body sent and the request still open: it never waited for the whole body.
    expect(sent).toBeLessThanOrEqual(16 * MIB);
    // It holds at most the 8 MiB limit (plus garbage not yet collected), never the 32 MiB body.
    expect(peak() - before).toBeLessThan(32 * MIB);

    // Declared too large: refused from the header, before any of it is read.
    const declared = await new Promise<number>((done, fail) => {
      const req = request(`${server.url}/drift`, { method: "POST", headers: { authorization: `Bearer ${read}`, "content-length": String(32 * MIB) } });
      req.on("response", (res) => {
        res.resume();
        done(res.statusCode!);
      });
      req.on("error", fail);
      req.write(Buffer.alloc(1024, 0x20));
    });
    expect(declared).toBe(413);
    // And the server is still fine.
    expect((await call(server.url, "GET", "/health")).status).toBe(200);
  });

  it("50 concurrent /status calls all get the same, correct report", async () => {
    const expected = await call(server.url, "GET", "/status", { token: read });
    expect([200, 409]).toContain(expected.status);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => call(server.url, "GET", "/status", i % 2 ? { token: read } : { apikey: SECRET_KEY })));
    for (const r of replies) {
      expect(r.status).toBe(expected.status);
      expect(r.body).toEqual(expected.body);
    }
  });

  it("`npm run serve` serves the same function on $PORT", async () => {
    const served = await startFunctionServer({ SUPABASE_DB_URL: db.url });
    try {
      expect((await call(served.url, "GET", "/health")).body).toEqual({ ok: true });
      expect((await call(served.url, "GET", "/audit", { token: read })).status).toBe(200);
    } finally {
      await served.stop();
    }
  });
});

describe("the function when its database goes away", () => {
  let pg: PgServer;
  let server: FunctionServer;

  beforeAll(async () => {
    pg = await startPostgres();
    const admin = postgres(pg.url(), { onnotice: () => {}, max: 1 });
    await admin.unsafe(readFileSync(join(ROOT, "tests/harness/supabase_roles.sql"), "utf8"));
    await admin.end();
  });
  afterAll(async () => {
    await server?.stop();
    pg?.destroy();
  });

  it("answers 503 while the database is down and recovers by itself when it is back", async () => {
    const url = pg.url();
    await install(url);
    const read = await createToken(url, "read", "outage");
    const secrets = [url, read, SECRET_KEY, String(pg.port)];
    server = await startFunctionServer({ SUPABASE_DB_URL: url, SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }) });
    expect((await call(server.url, "GET", "/audit", { token: read })).status).toBe(200);

    const admin = postgres(url, { onnotice: () => {}, max: 1 });
    await admin.unsafe("checkpoint"); // the harness stops with -m immediate and runs without synchronous commit
    await admin.end();
    pg.stop();
    for (const auth of [{ token: read }, { apikey: SECRET_KEY }]) {
      for (const route of ["/audit", "/status"]) expectSafeError(await call(server.url, "GET", route, auth), 503, "unreachable", secrets);
    }
    expect((await call(server.url, "GET", "/health")).status).toBe(200);

    pg.start();
    // Until the restarted server accepts connections, however long a loaded machine takes: only 503 meanwhile.
    let last: Reply;
    for (;;) {
      last = await call(server.url, "GET", "/audit", { token: read });
      if (last.status === 200) break;
      expectSafeError(last, 503, "unreachable", secrets);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(last.status, last.text).toBe(200);
    // Concurrency after recovery: the pool is healthy, not half-dead.
    const replies = await Promise.all(Array.from({ length: 20 }, () => call(server.url, "GET", "/audit", { token: read })));
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200));
  });
});

describe("bundling the function", () => {
  it("`deno check functions/migration-drift/index.ts` passes from the entrypoint alone", () => {
    const r = spawnSync(DENO, ["check", "functions/migration-drift/index.ts"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    expect(r.status, r.stderr).toBe(0);
  });

  it("every import is relative and static: local files under functions/, shared/, db/, and npm: packages only", () => {
    const r = spawnSync(DENO, ["info", "--json", "functions/migration-drift/index.ts"], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * MIB });
    expect(r.status, r.stderr).toBe(0);
    const graph = JSON.parse(r.stdout) as { modules: Array<{ specifier: string; kind?: string }> };
    const local = graph.modules.map((m) => m.specifier).filter((s) => s.startsWith("file://") && !s.includes("/node_modules/"));
    const remote = graph.modules.map((m) => m.specifier).filter((s) => !s.startsWith("file://") && !s.startsWith("npm:") && !s.startsWith("node:"));
    expect(remote).toEqual([]);
    for (const s of local) expect(s.slice(`file://${ROOT}/`.length)).toMatch(/^(functions\/migration-drift|shared|db)\//);
    // Nothing the CLI needs (commander, node:fs) is dragged in, nor the embedded shadow: PGlite's
    // WebAssembly has no place in the hosted bundle (serve.ts injects it locally).
    expect(local.some((s) => s.includes("/cli/"))).toBe(false);
    expect(graph.modules.map((m) => m.specifier).filter((s) => /pglite|\/db\/shadow\.ts|\/db\/definition_evidence\.ts/.test(s))).toEqual([]);
  });

  it("supabase/config.toml registers the function with its entrypoint, import map and verify_jwt = false", () => {
    const toml = readFileSync(join(ROOT, "supabase/config.toml"), "utf8");
    const section = /\[functions\.migration-drift\]([\s\S]*?)(?=\n\[|$)/.exec(toml)?.[1] ?? "";
    expect(section).toMatch(/^entrypoint = "\.\.\/functions\/migration-drift\/index\.ts"$/m);
    expect(section).toMatch(/^verify_jwt = false$/m);
    expect(section).toMatch(/^import_map = "\.\.\/functions\/migration-drift\/deno\.json"$/m);
    const imports = JSON.parse(readFileSync(join(ROOT, "functions/migration-drift/deno.json"), "utf8")).imports;
    // Pinned to exactly what package-lock.json installs, as the copy `drift-guard init` writes is.
    const installed = (pkg: string) => JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
    expect(imports).toEqual(Object.fromEntries(["postgres", "zod", "jose"].map((p) => [p, `npm:${p}@${installed(p)}`])));
  });
});
