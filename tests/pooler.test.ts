/**
 * Behind a transaction pooler (Debian's PgBouncer, pool_mode = transaction, as Supavisor on port
 * 6543): the function served with Deno and the CLI, each connected only through the pooler, upload a
 * manifest, read /status, plan and apply a repair, undo it, and read the ledger. The pooler hands out
 * a few server connections shared by every client, refuses startup parameters it does not track, and
 * keeps no session state: so statement_timeout must be set in each transaction, and must not leak.
 */
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "../db/connect.ts";
import { databaseError } from "../db/database_error.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { type FunctionServer, startFunctionServer } from "./harness/function_server.ts";
import { type PgBouncer, pgbouncerBinary, startPgBouncer } from "./harness/pgbouncer.ts";
import { SUPERUSER_PASSWORD } from "./harness/postgres.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const SECRET_KEY = "sb_secret_pooler_0123456789";
const A = "20240101000000";
const B = "20240102000000";

async function call(base: string, method: string, route: string, token: string, body?: unknown) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

const TITLE = "behind PgBouncer in transaction mode";
describe.skipIf(!pgbouncerBinary())(pgbouncerBinary() ? TITLE : `${TITLE} (skipped: no /usr/sbin/pgbouncer; install Debian's pgbouncer or set PGBOUNCER)`, () => {
  let db: TestDatabase;
  let bouncer: PgBouncer;
  let pooled: string;
  let project: string;
  const migrations = () => join(project, "supabase/migrations");
  const cli = async (args: string[]) => {
    const r = await runCli(args);
    expect(r.status, `drift-guard ${args.join(" ")}\n${r.stderr}\n--- pgbouncer ---\n${bouncer.log().slice(-3000)}`).toBe(0);
    return r.stdout;
  };
  // Long CLI runs (a repair replays into the embedded shadow) must not block the worker's event loop.
  const cliAsync = async (args: string[], status = 0) => {
    const r = await runCli(args);
    expect(r.status, `drift-guard ${args.join(" ")}\n${r.stderr}\n--- pgbouncer ---\n${bouncer.log().slice(-3000)}`).toBe(status);
    return r.stdout;
  };
  const token = async (scope: string, label: string) => (await cli(["token", "create", "--db-url", pooled, "--scope", scope, "--label", label])).trim().split("\n").at(-1)!;

  beforeAll(async () => {
    db = await createTestDatabase("pooler");
    bouncer = await startPgBouncer({ serverPort: inject("pg").port, users: { postgres: SUPERUSER_PASSWORD }, poolSize: 3 });
    pooled = bouncer.url(db.name);
    // Only the pooler from here on, for the CLI and the function alike.
    await cli(["install", "--db-url", pooled]);
    project = makeProject({ [`${A}_a.sql`]: "create table public.a (id int);" });
    supabasePush(db.url, project);
    await db.sql.unsafe("create table public.b (id int primary key)");
    project = makeProject({ [`${A}_a.sql`]: "create table public.a (id int);", [`${B}_b.sql`]: "create table public.b (id int primary key);" });
  });
  afterAll(async () => {
    await bouncer?.stop();
    await db?.drop();
  });

  it("is a faithful pooler: it refuses statement_timeout as a startup parameter, which maps to a 503 naming the pooler", async () => {
    const session = postgres(pooled, { prepare: false, max: 1, onnotice: () => {}, connection: { statement_timeout: 1000 } });
    try {
      const err = await session`select 1`.then(() => null, (e) => e);
      expect(err?.code).toBe("08P01");
      const mapped = databaseError(err);
      expect(mapped).toMatchObject({ code: "unreachable", httpStatus: 503 });
      expect(mapped.message).toMatch(/connection pooler .*startup parameter "statement_timeout"/);
      expect(mapped.hint).toMatch(/5432/);
    } finally {
      await session.end({ timeout: 1 });
    }
  });

  it("statement_timeout holds in each query and transaction through the pooler, and never reaches another client", async () => {
    const timed = openDatabase(pooled, { max: 3, statementTimeoutMs: 250, applicationName: "drift-guard function" });
    const plain = openDatabase(pooled, { max: 1 });
    try {
      expect(await timed`select current_setting('statement_timeout') as t, current_setting('application_name') as a`).toEqual([{ t: "250ms", a: "drift-guard function" }]);
      expect([...(await timed.unsafe("select current_setting('statement_timeout') as t"))]).toEqual([{ t: "250ms" }]);
      expect(await timed.begin("read only", (tx) => tx`select current_setting('statement_timeout') as t, current_setting('transaction_read_only') as r`))
        .toEqual([{ t: "250ms", r: "on" }]);
      const cancelled = await timed`select pg_sleep(5)`.then(() => null, (e) => e);
      expect(databaseError(cancelled).code).toBe("statement_timeout");
      // The pool has 3 server connections: whichever this client gets, it has the server's default.
      for (let i = 0; i < 6; i++) expect(await plain`select current_setting('statement_timeout') as t`).toEqual([{ t: "0" }]);
    } finally {
      await timed.end({ timeout: 1 });
      await plain.end({ timeout: 1 });
    }
  });

  describe("the function, served with Deno, connected through the pooler", () => {
    let server: FunctionServer;
    let read: string, deploy: string, repair: string;

    beforeAll(async () => {
      read = await token("read", "pooler-read");
      deploy = await token("deploy", "pooler-deploy");
      repair = await token("repair", "pooler-repair");
      server = await startFunctionServer({ SUPABASE_DB_URL: pooled, SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }) });
    });
    afterAll(async () => {
      await server?.stop();
    });

    it("upload, /status, ledger, repair plan and apply, undo, audit", async () => {
      const upload = await runCli(["manifest", "upload", "--url", server.url, "--token", deploy, "--migrations", migrations()]);
      expect(upload.status, `${upload.stderr}\n${server.output()}`).toBe(0);
      const drift = await call(server.url, "GET", "/status", read);
      expect(drift.status, drift.text).toBe(409);
      expect(drift.body.summary).toMatchObject({ in_sync: 1, pending: 1 });
      expect(drift.body.untracked_changes.map((g: any) => g.object_identity)).toContain("public.b");

      const ledger = await call(server.url, "GET", "/ledger?status=untracked", read);
      expect(ledger.status, ledger.text).toBe(200);
      expect(ledger.body.ledger).toMatchObject({ active: true });

      const ask = { mark_applied: [B], reason: "ran by hand behind the pooler" };
      const plan = await call(server.url, "POST", "/repair", repair, ask);
      expect(plan.status, plan.text).toBe(200);
      expect(plan.body).toMatchObject({ dry_run: true, changes: [{ op: "insert", version: B }] });
      const applied = await call(server.url, "POST", "/repair", repair, { ...ask, expect_digest: plan.body.history_digest, expect_plan_digest: plan.body.plan_digest });
      expect(applied.status, applied.text).toBe(200);
      expect(applied.body.audit_id).toMatch(/^[0-9a-f-]{36}$/);
      const synced = await call(server.url, "GET", "/status", read);
      expect(synced.status, synced.text).toBe(200);
      expect(synced.body.status).toBe("in_sync");

      const undo = await call(server.url, "POST", "/repair/undo", repair, { audit_id: applied.body.audit_id, reason: "not yet" });
      expect(undo.status, undo.text).toBe(200);
      expect((await call(server.url, "GET", "/status", read)).status).toBe(409);
      const audit = await call(server.url, "GET", "/audit", read);
      expect(audit.body.entries.map((e: any) => e.kind)).toEqual(["undo", "repair"]);
      expect(server.output()).not.toMatch(/08P01|unsupported startup parameter/);
    }, 300_000);

    it("a pooler's refusal (a session setting in SUPABASE_DB_URL) answers 503 unreachable naming the pooler, never 500 internal", async () => {
      // postgres.js sends a URL's unknown query parameters as startup parameters, as a user's ?options= would be.
      const refused = await startFunctionServer({ SUPABASE_DB_URL: `${pooled}&search_path=public`, SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }) });
      try {
        const res = await call(refused.url, "GET", "/status", read);
        expect(res.status, res.text).toBe(503);
        expect(res.body.error.code).toBe("unreachable");
        expect(res.body.error.message).toMatch(/connection pooler .*refused the startup parameter "search_path"/);
        expect(res.body.error.hint).toMatch(/5432/);
        expect(res.text).not.toContain(SUPERUSER_PASSWORD);
        expect(res.text).not.toMatch(/postgres(ql)?:\/\//);
      } finally {
        await refused.stop();
      }
    });
  });

  it("the CLI through the pooler: check, ledger, repair plan and apply, undo", async () => {
    const check = await cliAsync(["check", "--db-url", pooled, "--migrations", migrations(), "--format", "json"], 1);
    expect(JSON.parse(check).summary).toMatchObject({ in_sync: 1, pending: 1 });
    const untracked = JSON.parse(await cliAsync(["ledger", "--db-url", pooled, "--status", "untracked", "--format", "json"])).entries;
    expect(untracked.map((e: any) => e.object_identity)).toContain("public.b");
    const repairArgs = ["repair", "--db-url", pooled, "--migrations", migrations(), "--mark-applied", B, "--reason", "ran by hand, CLI behind the pooler", "--format", "json"];
    const plan = JSON.parse(await cliAsync(repairArgs));
    const applied = JSON.parse(await cliAsync([...repairArgs, "--apply", "--expect-digest", plan.plan_digest]));
    expect(applied.audit_id).toMatch(/^[0-9a-f-]{36}$/);
    await cliAsync(["check", "--db-url", pooled, "--migrations", migrations()], 0);
    await cliAsync(["undo", "--db-url", pooled, "--audit-id", applied.audit_id, "--reason", "not yet"]);
    await cliAsync(["check", "--db-url", pooled, "--migrations", migrations()], 1);
  }, 300_000);
});
