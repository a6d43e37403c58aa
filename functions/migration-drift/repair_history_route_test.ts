/**
 * The function and whole-history drift (docs/whole-history.md): GET /status's findings,
 * which it cannot prove without a shadow, and POST /repair's `move` and `squash`, with the
 * CLI's guards, in-process against a real PostgreSQL and the uploaded manifest.
 */
import assert from "node:assert/strict";
import { verifyToken } from "../../db/tokens.ts";
import { createApp } from "./app.ts";
import { createAuthenticator } from "./auth.ts";
import { lazyDatabase } from "./database.ts";
import { createToken, manifestOf, recordHistory, startTestDatabase } from "./test_support.ts";
import { assertSafeError, call } from "./test_support_http.ts";

const A = "create table public.a (id int);";
const B = "create table public.b (id int);";
const X = "create table public.x (id int);";
const Y = "create table public.y (id int);";
const Z = "create table public.z (id int);";
const settings = { sanitizeResources: false, sanitizeOps: false };

const pick = (changes: Array<{ op: string; version: string; name: string }>) => changes.map(({ op, version, name }) => ({ op, version, name }));

Deno.test("POST /repair: move and squash, planned, pinned, applied and undone", settings, async (t) => {
  const pg = await startTestDatabase();
  const db = lazyDatabase(pg.url, { max: 3, connectTimeoutSeconds: 5, statementTimeoutMs: 15_000 });
  const app = createApp({ db, authenticate: createAuthenticator({ secretKeys: [] }, verifyToken), maxBodyBytes: 256 * 1024 });
  try {
    const token = await createToken(pg.url, "repair", "oncall");
    // What ran: an agent applied b under its own version and name; x and y were squashed locally into the squash file.
    await recordHistory(pg.sql, manifestOf({
      "20240101000000_a.sql": A,
      "20240105000000_agent_b.sql": B,
      "20240110000000_x.sql": X,
      "20240111000000_y.sql": Y,
      "20240112000000_squash.sql": Z,
    }), ["20240101000000", "20240105000000", "20240110000000", "20240111000000", "20240112000000"]);
    const repository = manifestOf({ "20240101000000_a.sql": A, "20240102000000_b.sql": B, "20240112000000_squash.sql": `${X}\n${Y}\n${Z}` });

    await t.step("no manifest yet: 404 no_manifest, nothing written", async () => {
      const res = await call(app, "POST", "/repair", { token, body: { move: { from: "20240105000000", to: "20240102000000" }, reason: "agent" } });
      assertSafeError(res, 404, "no_manifest", [token]);
    });
    assert.equal((await call(app, "PUT", "/manifest", { token, body: repository })).status, 201);

    await t.step("GET /status: the findings, whose repairs the function cannot prove, point at the check that does", async () => {
      const res = await call(app, "GET", "/status", { token });
      assert.equal(res.status, 409, res.text);
      const findings = res.body.findings.map((f: { kind: string; command: string; verification: { status: string } }) => [f.kind, f.command, f.verification.status]);
      assert.deepEqual(findings, [
        ["moved", 'drift-guard check --db-url "$SUPABASE_DB_URL"', "skipped"],
        ["squashed", 'drift-guard check --db-url "$SUPABASE_DB_URL"', "skipped"],
      ]);
      assert.match(res.body.findings[0].explain, /NOT VERIFIED HERE \(the deployed function has no embedded shadow\)/);
      assert.deepEqual(res.body.actions.map((a: { kind: string }) => a.kind), ["verify_replay", "verify_replay"]);
      assert.ok(!res.text.includes("--move"), "no unproved repair command is printed");
    });

    await t.step("bad bodies are 400 and change nothing", async () => {
      const move = { from: "20240105000000", to: "20240102000000" };
      assertSafeError(await call(app, "POST", "/repair", { token, body: { move, mark_applied: ["20240102000000"], reason: "r" } }), 400, "usage", [token]);
      assertSafeError(await call(app, "POST", "/repair", { token, body: { move, squash: { rows: ["20240110000000"], into: "20240112000000" }, reason: "r" } }), 400, "usage", [token]);
      assertSafeError(await call(app, "POST", "/repair", { token, body: { move: { from: "../x", to: "20240102000000" }, reason: "r" } }), 400, "bad_input", [token]);
      assertSafeError(await call(app, "POST", "/repair", { token, body: { move: { ...move, extra: 1 }, reason: "r" } }), 400, "bad_input", [token]);
      assertSafeError(await call(app, "POST", "/repair", { token, body: { move: { from: "20240105000000", to: "20240199000000" }, reason: "r" } }), 400, "unknown_version", [token]);
      // Row a holds other SQL than file b: moving it would record SQL that never ran under b's version.
      assertSafeError(await call(app, "POST", "/repair", { token, body: { move: { from: "20240101000000", to: "20240102000000" }, reason: "r" } }), 400, "bad_input", [token]);
      assertSafeError(await call(app, "POST", "/repair", { token, body: { squash: { rows: ["20240110000000"], into: ["1", "2", "3"] }, reason: "r" } }), 400, "bad_input", [token]);
      assertSafeError(await call(app, "POST", "/repair", { token, body: { move } }), 400, "usage", [token]);
      const rows = await pg.sql`select version from supabase_migrations.schema_migrations order by version`;
      assert.deepEqual(rows.map((r) => r.version), ["20240101000000", "20240105000000", "20240110000000", "20240111000000", "20240112000000"]);
    });

    let moveAudit = "";
    await t.step("move: the row takes the file's version and name; applied only with the plan digest", async () => {
      const body = { move: { from: "20240105000000", to: "20240102000000" }, reason: "the agent recorded b under its own timestamp" };
      const plan = await call(app, "POST", "/repair", { token, body });
      assert.equal(plan.status, 200, plan.text);
      assert.equal(plan.body.dry_run, true);
      assert.deepEqual(pick(plan.body.changes), [{ op: "delete", version: "20240105000000", name: "agent_b" }, { op: "insert", version: "20240102000000", name: "b" }]);
      assertSafeError(await call(app, "POST", "/repair", { token, body: { ...body, expect_digest: plan.body.history_digest } }), 400, "bad_input", [token]);
      const applied = await call(app, "POST", "/repair", { token, body: { ...body, expect_digest: plan.body.plan_digest } });
      assert.equal(applied.status, 200, applied.text);
      assert.equal(applied.body.dry_run, false);
      moveAudit = applied.body.audit_id;
      const [row] = await pg.sql`select name, statements from supabase_migrations.schema_migrations where version = '20240102000000'`;
      assert.deepEqual({ ...row }, { name: "b", statements: [B.replace(/;$/, "")] });
      assertSafeError(await call(app, "POST", "/repair", { token, body: { ...body, expect_digest: plan.body.plan_digest } }), 409, "digest_mismatch", [token]);
    });

    await t.step("squash: the rows are deleted and the squash file recorded, in one audited repair; undo restores them", async () => {
      const body = { squash: { rows: ["20240110000000", "20240111000000"], into: "20240112000000" }, reason: "x and y were folded into the squash file" };
      const plan = await call(app, "POST", "/repair", { token, body });
      assert.equal(plan.status, 200, plan.text);
      assert.deepEqual(pick(plan.body.changes), [
        { op: "delete", version: "20240110000000", name: "x" },
        { op: "delete", version: "20240111000000", name: "y" },
        { op: "update", version: "20240112000000", name: "squash" },
      ]);
      const applied = await call(app, "POST", "/repair", { token, body: { ...body, expect_plan_digest: plan.body.plan_digest, expect_digest: plan.body.history_digest } });
      assert.equal(applied.status, 200, applied.text);
      const status = await call(app, "GET", "/status", { token });
      assert.deepEqual(status.body.migrations.map((m: { state: string }) => m.state), ["in_sync", "in_sync", "in_sync"], status.text);

      const undo = await call(app, "POST", "/repair/undo", { token, body: { audit_id: applied.body.audit_id, reason: "checking undo" } });
      assert.equal(undo.status, 200, undo.text);
      const rows = await pg.sql`select version from supabase_migrations.schema_migrations order by version`;
      assert.deepEqual(rows.map((r) => r.version), ["20240101000000", "20240102000000", "20240110000000", "20240111000000", "20240112000000"]);
      const audit = await call(app, "GET", "/audit", { token });
      assert.ok(audit.body.entries.some((e: { id: string }) => e.id === moveAudit), audit.text);
    });
  } finally {
    await db.close();
    await pg.close();
  }
});
