/**
 * Every route, in-process, against a real PostgreSQL with drift_guard installed
 * by the real CLI and tokens minted by the real CLI.
 */
import assert from "node:assert/strict";
import { verifyToken } from "../../db/tokens.ts";
import { createApp } from "./app.ts";
import { createAuthenticator } from "./auth.ts";
import { lazyDatabase } from "./database.ts";
import { createToken, manifestOf, recordHistory, startTestDatabase } from "./test_support.ts";
import { assertSafeError, call } from "./test_support_http.ts";

const SECRET_KEY = "sb_secret_app_test_0123456789abcdef";
const FILES = {
  "20240101000000_a.sql": "create table public.a (id int);",
  "20240102000000_b.sql": "create table public.b (id int);",
  "20240103000000_c.sql": "create table public.c (id int);",
};
const settings = { sanitizeResources: false, sanitizeOps: false };

Deno.test("migration-drift routes against a real database", settings, async (t) => {
  const pg = await startTestDatabase();
  const db = lazyDatabase(pg.url, { max: 3, connectTimeoutSeconds: 5, statementTimeoutMs: 15_000 });
  const app = createApp({ db, authenticate: createAuthenticator({ secretKeys: [{ name: "default", key: SECRET_KEY }] }, verifyToken), maxBodyBytes: 256 * 1024 });
  try {
    const read = await createToken(pg.url, "read", "ci-read");
    const deploy = await createToken(pg.url, "deploy", "ci-deploy");
    const repair = await createToken(pg.url, "repair", "oncall");
    const secrets = [read, deploy, repair, SECRET_KEY, pg.url, "dg-test-secret-pw"];
    const manifest = manifestOf(FILES);
    // a and c were pushed; b ran by hand and was never recorded: out of order.
    await recordHistory(pg.sql, manifest, ["20240101000000", "20240103000000"]);
    await pg.sql.unsafe("create table public.b (id int)");

    await t.step("GET /health: no credentials, nothing but ok", async () => {
      for (const prefix of ["/functions/v1/migration-drift", "/migration-drift"]) {
        const res = await call(app, "GET", "/health", { prefix });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { ok: true });
      }
    });

    await t.step("unknown routes and methods: 404 JSON", async () => {
      assertSafeError(await call(app, "GET", "/nope", { token: read }), 404, "not_found");
      assertSafeError(await call(app, "DELETE", "/status", { token: read }), 404, "not_found");
      assertSafeError(await call(app, "GET", "/status", { prefix: "/other-function" }), 404, "not_found");
    });

    await t.step("no manifest yet: /status is 404 no_manifest with a hint", async () => {
      const res = await call(app, "GET", "/status", { token: read });
      assertSafeError(res, 404, "no_manifest", secrets);
      assert.match(res.body.error.hint, /manifest upload/);
    });

    await t.step("scopes nest: read cannot deploy, deploy cannot repair", async () => {
      assertSafeError(await call(app, "PUT", "/manifest", { token: read, body: manifest }), 403, "forbidden", secrets);
      assertSafeError(await call(app, "POST", "/repair", { token: deploy, body: { mark_applied: ["20240102000000"], reason: "x" } }), 403, "forbidden", secrets);
      assertSafeError(await call(app, "POST", "/repair/undo", { token: read, body: {} }), 403, "forbidden", secrets);
    });

    await t.step("PUT /manifest: 400 when malformed, 201 when stored (deploy and repair both may)", async () => {
      assertSafeError(await call(app, "PUT", "/manifest", { token: deploy, body: { format: "nope" } }), 400, "malformed_manifest", secrets);
      const tampered = structuredClone(manifest);
      tampered.migrations[0].statements = ["drop table public.a"];
      assertSafeError(await call(app, "PUT", "/manifest", { token: deploy, body: tampered }), 400, "malformed_manifest", secrets);
      assertSafeError(await call(app, "PUT", "/manifest", { token: deploy, rawBody: "{not json" }), 400, "bad_input", secrets);
      assertSafeError(await call(app, "PUT", "/manifest", { token: deploy }), 400, "bad_input", secrets);
      const res = await call(app, "PUT", "/manifest", { token: deploy, body: manifest });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.manifest.migration_count, 3);
      assert.equal(res.body.manifest.uploaded_by.label, "ci-deploy");
      assert.equal((await call(app, "PUT", "/manifest", { token: repair, body: manifest })).status, 201);
    });

    let digest = "";
    await t.step("GET /status: 409 with the report on drift, for every scope and the secret key", async () => {
      for (const auth of [{ token: read }, { token: deploy }, { token: repair }, { apikey: SECRET_KEY }, { token: SECRET_KEY }]) {
        const res = await call(app, "GET", "/status", auth);
        assert.equal(res.status, 409, res.text);
        assert.equal(res.body.status, "drift");
        assert.equal(res.body.summary.out_of_order, 1);
        const b = res.body.migrations.find((m: any) => m.version === "20240102000000");
        assert.equal(b.state, "out_of_order");
        assert.equal(b.evidence?.verdict, "present");
        assert.equal(res.body.manifest.migration_count, 3);
        digest = res.body.history_digest;
      }
    });

    await t.step("GET /status: the cached reply, gzipped or not, streamed whole with its content-length", async () => {
      const get = (encoding: string) =>
        app(new Request("http://127.0.0.1/functions/v1/migration-drift/status", { headers: { authorization: `Bearer ${read}`, "accept-encoding": encoding } }));
      const plain = await get("identity");
      const plainBytes = new Uint8Array(await plain.arrayBuffer());
      assert.equal(plain.headers.get("content-encoding"), null);
      assert.equal(Number(plain.headers.get("content-length")), plainBytes.length);
      const gzipped = await get("gzip, br");
      assert.equal(gzipped.headers.get("content-encoding"), "gzip");
      assert.equal(gzipped.headers.get("vary"), "accept-encoding");
      const gzippedBytes = new Uint8Array(await gzipped.arrayBuffer());
      assert.equal(Number(gzipped.headers.get("content-length")), gzippedBytes.length);
      const unzipped = await new Response(new Blob([gzippedBytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
      assert.equal(unzipped, new TextDecoder().decode(plainBytes));
      assert.equal(JSON.parse(unzipped).status, "drift");
    });

    await t.step("POST /drift: the report for the posted manifest", async () => {
      const inSync = manifestOf({ "20240101000000_a.sql": FILES["20240101000000_a.sql"], "20240103000000_c.sql": FILES["20240103000000_c.sql"] });
      // Every migration of this manifest matches the history, but public.b was created by hand,
      // outside any migration: the DDL ledger reports it, and that is drift until acknowledged.
      const ok = await call(app, "POST", "/drift", { token: read, body: inSync });
      assert.equal(ok.status, 409, ok.text);
      assert.equal(ok.body.summary.in_sync, 2);
      assert.deepEqual(ok.body.migrations.map((m: any) => m.state), ["in_sync", "in_sync"]);
      assert.deepEqual(ok.body.untracked_changes.map((g: any) => g.object), ["table public.b"]);
      assert.equal(ok.body.history_digest, digest);
      const later = await call(app, "POST", "/drift?since=2999-01-01", { token: read, body: inSync });
      assert.equal(later.status, 200, later.text);
      assert.equal(later.body.status, "in_sync");
      assert.equal((await call(app, "POST", "/drift", { token: read, body: manifest })).status, 409);
      assertSafeError(await call(app, "POST", "/drift", { token: read, rawBody: "[1," }), 400, "bad_input", secrets);
      assertSafeError(await call(app, "POST", "/drift", { token: read, body: { migrations: 3 } }), 400, "malformed_manifest", secrets);
    });

    let auditId = "";
    await t.step("POST /repair: dry run, apply, stale digest, lock held", async () => {
      const request = { mark_applied: ["20240102000000"], reason: "ran by hand during the incident" };
      assertSafeError(await call(app, "POST", "/repair", { token: repair, body: { mark_applied: ["20240102000000"] } }), 400, "usage", secrets);
      assertSafeError(await call(app, "POST", "/repair", { token: repair, body: { ...request, mark_applied: ["99"] } }), 400, "unknown_version", secrets);
      assertSafeError(await call(app, "POST", "/repair", { token: repair, body: { ...request, expect_digest: "md5:x" } }), 400, "bad_input", secrets);
      assertSafeError(await call(app, "POST", "/repair", { token: repair, body: { ...request, extra: 1 } }), 400, "bad_input", secrets);

      const plan = await call(app, "POST", "/repair", { token: repair, body: request });
      assert.equal(plan.status, 200, plan.text);
      assert.equal(plan.body.dry_run, true);
      assert.equal(plan.body.history_digest, digest);
      assert.deepEqual(plan.body.changes.map(({ op, version, name }: { op: string; version: string; name: string }) => ({ op, version, name })), [{ op: "insert", version: "20240102000000", name: "b" }]);
      const pinned = { expect_digest: digest, expect_plan_digest: plan.body.plan_digest };
      assert.equal(plan.body.audit_id, null);
      assert.equal((await call(app, "GET", "/history/20240102000000", { token: read })).status, 404, "a dry run writes nothing");

      // Another session holds the repair lock: 409 lock_held, nothing written.
      const holder = await pg.sql.reserve();
      try {
        await holder.unsafe("select pg_advisory_lock(7225869907141945714)");
        assertSafeError(await call(app, "POST", "/repair", { token: repair, body: { ...request, ...pinned } }), 409, "lock_held", secrets);
      } finally {
        await holder.unsafe("select pg_advisory_unlock_all()");
        holder.release();
      }

      assertSafeError(await call(app, "POST", "/repair", { token: repair, body: { ...request, expect_digest: digest } }), 400, "bad_input", secrets);
      const applied = await call(app, "POST", "/repair", { token: repair, body: { ...request, ...pinned } });
      assert.equal(applied.status, 200, applied.text);
      assert.equal(applied.body.dry_run, false);
      assert.notEqual(applied.body.history_digest, digest);
      assert.match(applied.body.audit_id, /^[0-9a-f-]{36}$/);
      auditId = applied.body.audit_id;

      const stale = await call(app, "POST", "/repair", { token: repair, body: { ...request, ...pinned } });
      assertSafeError(stale, 409, "digest_mismatch", secrets);

      const now = await call(app, "GET", "/status", { token: read });
      assert.equal(now.status, 200, now.text);
      assert.equal(now.body.status, "in_sync");
    });

    await t.step("GET /history/:version: the stored row with statements; 404 and 400 otherwise", async () => {
      const res = await call(app, "GET", "/history/20240102000000", { token: read });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.statements, ["create table public.b (id int)"]);
      assert.equal(res.body.name, "b");
      assert.equal(res.body.checksum, manifest.migrations[1].checksum);
      assertSafeError(await call(app, "GET", "/history/20990101000000", { token: read }), 404, "not_found", secrets);
      assertSafeError(await call(app, "GET", "/history/abc", { token: read }), 400, "bad_input", secrets);
    });

    await t.step("POST /repair/undo: restores the history; a second undo is refused", async () => {
      assertSafeError(await call(app, "POST", "/repair/undo", { token: repair, body: { audit_id: auditId } }), 400, "usage", secrets);
      assertSafeError(await call(app, "POST", "/repair/undo", { token: repair, body: { audit_id: "nope", reason: "r" } }), 400, "bad_input", secrets);
      assertSafeError(
        await call(app, "POST", "/repair/undo", { token: repair, body: { audit_id: crypto.randomUUID(), reason: "r" } }),
        404,
        "not_found",
        secrets,
      );
      const res = await call(app, "POST", "/repair/undo", { token: repair, body: { audit_id: auditId, reason: "wrong version marked" } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.history_digest, digest);
      assert.equal(res.body.undoes, auditId);
      assertSafeError(await call(app, "POST", "/repair/undo", { token: repair, body: { audit_id: auditId, reason: "again" } }), 400, "bad_input", secrets);
      assert.equal((await call(app, "GET", "/status", { token: read })).status, 409);
    });

    await t.step("POST /repair with mark_reverted, applied by the secret key", async () => {
      const body = { mark_reverted: ["20240103000000"], reason: "testing revert" };
      const plan = await call(app, "POST", "/repair", { apikey: SECRET_KEY, body });
      assert.equal(plan.status, 200, plan.text);
      assert.deepEqual(plan.body.changes, [{ op: "delete", version: "20240103000000", name: "c", statements_checksum: null }]);
      const applied = await call(app, "POST", "/repair", { apikey: SECRET_KEY, body: { ...body, expect_digest: plan.body.history_digest, expect_plan_digest: plan.body.plan_digest } });
      assert.equal(applied.status, 200, applied.text);
      const undone = await call(app, "POST", "/repair/undo", { apikey: SECRET_KEY, body: { audit_id: applied.body.audit_id, reason: "put it back" } });
      assert.equal(undone.status, 200, undone.text);
    });

    await t.step("GET /audit: newest first, with who did it", async () => {
      const res = await call(app, "GET", "/audit", { token: read });
      assert.equal(res.status, 200, res.text);
      const entries = res.body.entries;
      assert.equal(entries.length, 4);
      assert.deepEqual(entries.map((e: any) => e.kind), ["undo", "repair", "undo", "repair"]);
      assert.deepEqual(entries[3].actor, { via: "function", kind: "token", label: "oncall", token_id: entries[3].actor.token_id });
      assert.equal(entries[0].actor.label, "secret key");
      assert.equal(entries[3].undone_by, entries[2].id);
      assert.deepEqual(entries[3].changes, [{ op: "insert", version: "20240102000000", name: "b" }]);
      assert.equal((await call(app, "GET", "/audit?limit=1", { token: read })).body.entries.length, 1);
      assertSafeError(await call(app, "GET", "/audit?limit=0", { token: read }), 400, "bad_input", secrets);
    });

    await t.step("GET /audit: read scope sees who by label or user id, not e-mail or host", async () => {
      const [{ d }] = await pg.sql`select drift_guard.history_digest() as d`;
      const [{ r }] = await pg.sql`select drift_guard.apply_repair(${d}, '[{"op":"insert","version":"99990101000000","name":"z","statements":["select 9"]}]'::jsonb,
        'by a user', '{"via":"function","kind":"user","user_id":"u-1","email":"alice@example.com","host":"laptop.local"}'::jsonb, '{"changes":[]}'::jsonb) as r`;
      await pg.sql`select drift_guard.undo_repair(${r.audit_id}::uuid, 'put back', '{"user":"test"}'::jsonb)`;
      const forRead = await call(app, "GET", "/audit", { token: read });
      assert.equal(forRead.status, 200, forRead.text);
      assert(!forRead.text.includes("alice@example.com") && !forRead.text.includes("laptop.local"), forRead.text);
      assert.equal(forRead.body.entries[1].actor.user_id, "u-1");
      const forRepair = await call(app, "GET", "/audit", { token: repair });
      assert(forRepair.text.includes("alice@example.com"), forRepair.text);
    });

    await t.step("credentials: none, unknown, revoked", async () => {
      assertSafeError(await call(app, "GET", "/status"), 401, "unauthorized", secrets);
      assertSafeError(await call(app, "GET", "/status", { token: read.slice(0, -1) + (read.endsWith("A") ? "B" : "A") }), 401, "unauthorized", secrets);
      assertSafeError(await call(app, "GET", "/status", { token: "dg_000000000000_" + "x".repeat(43) }), 401, "unauthorized", secrets);
      assertSafeError(await call(app, "GET", "/status", { apikey: "sb_publishable_abc" }), 401, "unauthorized", secrets);
      assertSafeError(await call(app, "GET", "/status", { headers: { authorization: `Basic ${btoa("a:b")}` } }), 401, "unauthorized", secrets);
      await pg.sql`select drift_guard.revoke_token('ci-read')`;
      assertSafeError(await call(app, "GET", "/status", { token: read }), 401, "unauthorized", secrets);
    });

    await t.step("body limit: 413 from content-length and from counting a stream", async () => {
      const big = "x".repeat(300 * 1024);
      assertSafeError(await call(app, "POST", "/drift", { token: deploy, rawBody: big }), 413, "payload_too_large", secrets);
      let pulled = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++;
          if (pulled > 10_000) return controller.close();
          controller.enqueue(new Uint8Array(64 * 1024));
        },
      });
      assertSafeError(await call(app, "PUT", "/manifest", { token: deploy, rawBody: stream }), 413, "payload_too_large", secrets);
      assert.ok(pulled < 10, `the server read ${pulled} chunks of 64 KiB for a 256 KiB limit`);
    });
  } finally {
    await db.close();
    await pg.close();
  }
});

Deno.test("database not installed: 503 not_installed with a hint", settings, async () => {
  const pg = await startTestDatabase();
  const db = lazyDatabase(pg.url);
  const app = createApp({ db, authenticate: createAuthenticator({ secretKeys: [{ name: "default", key: SECRET_KEY }] }, verifyToken), maxBodyBytes: 1024 });
  try {
    await pg.sql.unsafe("drop schema drift_guard cascade");
    const res = await call(app, "GET", "/status", { apikey: SECRET_KEY });
    assertSafeError(res, 503, "not_installed", [SECRET_KEY, pg.url]);
    assert.match(res.body.error.hint, /drift-guard install/);
    const token = await call(app, "GET", "/status", { token: "dg_0123456789ab_" + "y".repeat(43) });
    assertSafeError(token, 503, "not_installed", [pg.url]);
  } finally {
    await db.close();
    await pg.close();
  }
});

Deno.test("database unreachable: 503, no URL or password in the body; recovers when it is back", settings, async () => {
  const pg = await startTestDatabase();
  const db = lazyDatabase(pg.url, { connectTimeoutSeconds: 2 });
  const app = createApp({ db, authenticate: createAuthenticator({ secretKeys: [{ name: "default", key: SECRET_KEY }] }, verifyToken), maxBodyBytes: 1024 });
  try {
    const token = await createToken(pg.url, "read", "r");
    assert.equal((await call(app, "GET", "/audit", { token })).status, 200);
    await pg.sql.unsafe("checkpoint"); // the harness stops the server with -m immediate and runs without synchronous commit
    pg.server.stop();
    for (const auth of [{ token }, { apikey: SECRET_KEY }]) {
      const res = await call(app, "GET", "/audit", auth);
      assertSafeError(res, 503, "unreachable", [token, SECRET_KEY, pg.url, "dg-test-secret-pw", String(pg.server.port)]);
    }
    assert.deepEqual((await call(app, "GET", "/health")).body, { ok: true }, "health does not touch the database");
    pg.server.start();
    const back = await call(app, "GET", "/audit", { token });
    assert.equal(back.status, 200, back.text);
  } finally {
    await db.close();
    await pg.close();
  }
});

Deno.test("no database configured: 503 naming the secret to set", settings, async () => {
  const app = createApp({ db: lazyDatabase(undefined), authenticate: createAuthenticator({ secretKeys: [{ name: "d", key: SECRET_KEY }] }, verifyToken), maxBodyBytes: 1024 });
  const res = await call(app, "GET", "/audit", { apikey: SECRET_KEY });
  assertSafeError(res, 503, "unreachable");
  assert.match(res.body.error.hint, /SUPABASE_DB_URL/);
});
