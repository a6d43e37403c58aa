/**
 * The ledger through the function over real HTTP: GET /ledger, POST /ledger/ack, and the
 * webhook alert /status sends to a local receiver (signed, sent once, retried after a
 * receiver that was down or hung).
 */
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { createToken, runCli } from "./harness/cli_in_process.ts";
import { type FunctionServer, startFunctionServer } from "./harness/function_server.ts";
import { freePort } from "./harness/postgres.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const SECRET_KEY = "sb_secret_ledger_function_0123456789";
const WEBHOOK_SECRET = "whsec_ledger_test_secret";
const V1 = "20250901000000";

interface Delivery {
  headers: IncomingMessage["headers"];
  body: string;
}

/**
 * A local webhook receiver whose behaviour the test switches: answer 200, answer 500, never
 * answer, or answer 200 after a pause (so that concurrent checks overlap the delivery).
 */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  const hung: ServerResponse[] = [];
  let mode: "ok" | "fail" | "hang" | "slow" = "ok";
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (mode === "hang") {
        hung.push(res);
        return;
      }
      const ok = mode === "ok" || mode === "slow";
      if (ok) deliveries.push({ headers: req.headers, body });
      setTimeout(() => {
        res.statusCode = ok ? 200 : 500;
        res.end("ok");
      }, mode === "slow" ? 300 : 0);
    });
  });
  const port = await freePort();
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    setMode: (m: typeof mode) => (mode = m),
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

async function call(base: string, method: string, route: string, token: string, body?: unknown) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as any };
}

describe("the ledger through the function", () => {
  let db: TestDatabase;
  let server: FunctionServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let project: string;
  let read: string, repair: string;

  beforeAll(async () => {
    db = await createTestDatabase("ledger_fn");
    expect((await runCli(["install", "--db-url", db.url])).status).toBe(0);
    read = await createToken(db.url, "read", "reader");
    repair = await createToken(db.url, "repair", "oncall");
    project = makeProject({ [`${V1}_a.sql`]: "create table public.a (id int);\n" });
    supabasePush(db.url, project);
    receiver = await startReceiver();
    server = await startFunctionServer({
      SUPABASE_DB_URL: db.url,
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }),
      DRIFT_GUARD_WEBHOOK_URL: receiver.url,
      DRIFT_GUARD_WEBHOOK_SECRET: WEBHOOK_SECRET,
      DRIFT_GUARD_WEBHOOK_TIMEOUT_MS: "500",
    });
    const deploy = await createToken(db.url, "deploy", "ci");
    const up = await runCli(["manifest", "upload", "--url", server.url, "--token", deploy, "--migrations", join(project, "supabase/migrations")]);
    expect(up.status, up.stderr).toBe(0);
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
    await db?.drop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("in sync with only tracked DDL: 200, no alert", async () => {
    const res = await call(server.url, "GET", "/status", read);
    expect(res.status).toBe(200);
    expect(res.body.untracked_changes).toEqual([]);
    expect(receiver.deliveries).toHaveLength(0);
  });

  it("an untracked change: 409, one signed Slack-compatible alert, nothing on a repeated check", async () => {
    await db.sql.unsafe("create table public.hotfix (id int)");
    const res = await call(server.url, "GET", "/status", read);
    expect(res.status).toBe(409);
    expect(res.body.untracked_changes.map((g: any) => g.object)).toEqual(["table public.hotfix"]);
    expect(receiver.deliveries).toHaveLength(1);

    const [d] = receiver.deliveries;
    const timestamp = String(d.headers["x-drift-guard-timestamp"]);
    expect(timestamp).toMatch(/^[0-9]+$/);
    const expected = createHmac("sha256", WEBHOOK_SECRET).update(`${timestamp}.${d.body}`).digest("hex");
    expect(d.headers["x-drift-guard-signature"]).toBe(`v1=${expected}`);
    const payload = JSON.parse(d.body);
    expect(payload.text).toMatch(/^\*drift-guard\*: 1 schema change\(s\) ran outside any migration/);
    expect(payload.text).toContain("table public.hotfix");
    // The object, who and when, never the statement: a statement may carry a secret.
    expect(payload.untracked_changes[0].changes[0]).toMatchObject({ command_tag: "CREATE TABLE", statement: "(hidden from this scope)" });
    expect(d.body).not.toContain("create table public.hotfix (id int)");
    expect(res.body.untracked_changes[0].changes[0].statement).toBe("(hidden from this scope)");

    const again = await call(server.url, "GET", "/status", read);
    expect(again.status).toBe(409);
    expect(again.body.untracked_changes[0].changes[0].alerted).toBe(true);
    expect(receiver.deliveries).toHaveLength(1);
  });

  it("a receiver that fails or hangs never fails /status; the alert goes out on the next check", async () => {
    await db.sql.unsafe("create table public.second (id int)");
    receiver.setMode("fail");
    expect((await call(server.url, "GET", "/status", read)).status).toBe(409);
    receiver.setMode("hang");
    expect((await call(server.url, "GET", "/status", read)).status).toBe(409);
    expect(receiver.deliveries).toHaveLength(1);
    receiver.setMode("ok");
    expect((await call(server.url, "GET", "/status", read)).status).toBe(409);
    expect(receiver.deliveries).toHaveLength(2);
    const payload = JSON.parse(receiver.deliveries[1].body);
    // Only the new change: the first alert already covered public.hotfix.
    expect(payload.untracked_changes.map((g: any) => g.object)).toEqual(["table public.second"]);
  });

  it("GET /ledger (read) filters; POST /ledger/ack (repair) acknowledges, audited; then /status is 200", async () => {
    const all = await call(server.url, "GET", "/ledger?status=untracked", read);
    expect(all.status).toBe(200);
    expect(all.body.ledger).toMatchObject({ active: true, history_trigger: true });
    const ids = all.body.entries.map((e: any) => e.id);
    expect(all.body.entries.map((e: any) => e.object_identity)).toEqual(["public.hotfix", "public.second"]);
    // Statements are for repair scope only.
    expect(all.body.entries.map((e: any) => e.statement)).toEqual(["(hidden from this scope)", "(hidden from this scope)"]);
    const full = await call(server.url, "GET", "/ledger?status=untracked", repair);
    expect(full.body.entries.map((e: any) => e.statement)).toEqual(["create table public.hotfix (id int)", "create table public.second (id int)"]);
    const tracked = await call(server.url, "GET", "/ledger?status=tracked&object=public.a", read);
    expect(tracked.body.entries.map((e: any) => [e.object_identity, e.tracked_by])).toEqual([["public.a", [V1]]]);
    expect((await call(server.url, "GET", "/ledger?status=bogus", read)).status).toBe(400);
    expect((await call(server.url, "GET", "/ledger?since=tuesday", read)).status).toBe(400);

    expect((await call(server.url, "POST", "/ledger/ack", read, { ids, reason: "x" })).status).toBe(403);
    expect((await call(server.url, "POST", "/ledger/ack", repair, { ids })).status).toBe(400);
    expect((await call(server.url, "POST", "/ledger/ack", repair, { ids: ["1 or 1=1"], reason: "x" })).status).toBe(400);
    const missing = await call(server.url, "POST", "/ledger/ack", repair, { ids: ["987654"], reason: "x" });
    expect(missing.status).toBe(404);
    const ack = await call(server.url, "POST", "/ledger/ack", repair, { ids, reason: "hotfixes, now in migrations" });
    expect(ack.status).toBe(200);
    expect(ack.body.acknowledged).toBe(2);
    const audit = await call(server.url, "GET", "/audit", read);
    expect(audit.body.entries[0]).toMatchObject({ id: ack.body.audit_id, kind: "ack", reason: "hotfixes, now in migrations", actor: expect.objectContaining({ label: "oncall" }) });
    expect((await call(server.url, "GET", "/status", read)).status).toBe(200);
  });

  it("concurrent checks, on two function instances, send each change once", async () => {
    const other = await startFunctionServer({
      SUPABASE_DB_URL: db.url,
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }),
      DRIFT_GUARD_WEBHOOK_URL: receiver.url,
      DRIFT_GUARD_WEBHOOK_SECRET: WEBHOOK_SECRET,
      DRIFT_GUARD_WEBHOOK_TIMEOUT_MS: "5000",
    });
    try {
      await db.sql.unsafe("create table public.third (id int)");
      receiver.setMode("slow");
      const before = receiver.deliveries.length;
      const replies = await Promise.all(
        Array.from({ length: 16 }, (_, i) => call(i % 2 ? other.url : server.url, "GET", "/status", read)),
      );
      expect(replies.map((r) => r.status)).toEqual(replies.map(() => 409));
      const sent = receiver.deliveries.slice(before).map((d) => JSON.parse(d.body).untracked_changes.map((g: any) => g.object));
      expect(sent).toEqual([["table public.third"]]);
      // The next check sees it sent, on either instance.
      receiver.setMode("ok");
      for (const base of [server.url, other.url]) {
        const again = await call(base, "GET", "/status", read);
        expect(again.body.untracked_changes[0].changes[0].alerted).toBe(true);
      }
      expect(receiver.deliveries.length).toBe(before + 1);
    } finally {
      receiver.setMode("ok");
      await other.stop();
    }
  });
});
