/**
 * Slow clients cannot hold the function: a body that trickles in holds no
 * concurrency slot and is cut off at the deadline with 408; meanwhile GET /health,
 * unauthenticated callers and other callers are answered. Bad repair input is 400
 * whatever digest comes with it. Everything here is decided before the database
 * is needed, so the app runs with no database configured.
 */
import assert from "node:assert/strict";
import { verifyToken } from "../../db/tokens.ts";
import { createApp } from "./app.ts";
import { createAuthenticator } from "./auth.ts";
import { lazyDatabase } from "./database.ts";
import { assertSafeError, call } from "./test_support_http.ts";

const SECRET_KEY = "sb_secret_slow_body_test_0123456789";
const settings = { sanitizeResources: false, sanitizeOps: false };
const BASE = "http://127.0.0.1/functions/v1/migration-drift";

function app(maxConcurrent: number) {
  return createApp({
    db: lazyDatabase(undefined),
    authenticate: createAuthenticator({ secretKeys: [{ name: "default", key: SECRET_KEY }] }, verifyToken),
    maxBodyBytes: 64 * 1024,
    bodyTimeoutMs: 200,
    maxConcurrent,
  });
}

/**
 * A request whose body sends one byte and then nothing: a client holding the connection open.
 * `reading` settles once the app asks for more of the body, that is, once it is waiting on the client.
 */
function trickling(path: string, headers: Record<string, string>, method = "POST") {
  let onCancel!: () => void;
  let onRead!: () => void;
  const cancelled = new Promise<void>((resolve) => (onCancel = resolve));
  const reading = new Promise<void>((resolve) => (onRead = resolve));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("{"));
    },
    pull() {
      onRead();
      return new Promise<void>(() => {});
    },
    cancel() {
      onCancel();
    },
  });
  const request = new Request(`${BASE}${path}`, { method, headers: { "content-type": "application/json", ...headers }, body });
  return { request, reading, cancelled };
}

Deno.test("slow bodies hold no slot, end in 408, and every other caller is answered", settings, async () => {
  const handler = app(2);
  const slow = Array.from({ length: 4 }, () => trickling("/drift", { apikey: SECRET_KEY }));
  const pending: Promise<Response>[] = [];
  // One after another, each is authenticated and left waiting for its body: twice as many as there are slots.
  for (const s of slow) {
    pending.push(handler(s.request));
    await s.reading;
  }

  const health = await call(handler, "GET", "/health");
  assert.equal(health.status, 200);
  assert.deepEqual(health.body, { ok: true });
  // Unauthenticated: 401, not 503, although four bodies are still arriving.
  assertSafeError(await call(handler, "GET", "/status"), 401, "unauthorized", [SECRET_KEY]);
  // An authenticated caller with a whole body gets a slot: its malformed manifest is a 400.
  assertSafeError(await call(handler, "POST", "/drift", { apikey: SECRET_KEY, body: { not: "a manifest" } }), 400, "malformed_manifest", [SECRET_KEY]);

  for (const res of await Promise.all(pending)) {
    assert.equal(res.status, 408);
    const body = await res.json();
    assert.equal(body.error.code, "request_timeout");
  }
  await Promise.all(slow.map((s) => s.cancelled));
});

Deno.test("an unauthenticated caller is refused before its body is read", settings, async () => {
  const handler = app(1);
  const slow = trickling("/manifest", {}, "PUT");
  let read = false;
  slow.reading.then(() => (read = true));
  const res = await handler(slow.request);
  assertSafeError({ status: res.status, body: await res.json(), text: "" }, 401, "unauthorized");
  await slow.cancelled;
  assert.equal(read, false, "the body of an unauthenticated request was read");
});

Deno.test("a malformed reason is 400 with an expect digest or without", settings, async () => {
  const handler = app(4);
  const digest = `sha256:${"ab".repeat(32)}`;
  for (const extra of [{}, { expect_digest: digest }, { expect_plan_digest: digest, expect_digest: digest }]) {
    for (const reason of ["bad\u0000reason", "   ", ""]) {
      const res = await call(handler, "POST", "/repair", { apikey: SECRET_KEY, body: { mark_reverted: ["20240101000000"], reason, ...extra } });
      assert.equal(res.status, 400, `${JSON.stringify(reason)} ${JSON.stringify(extra)}: ${res.text}`);
    }
    const version = await call(handler, "POST", "/repair", { apikey: SECRET_KEY, body: { mark_reverted: ["1; drop"], reason: "ok", ...extra } });
    assertSafeError(version, 400, "bad_input", [SECRET_KEY]);
    const audit = await call(handler, "POST", "/repair/undo", { apikey: SECRET_KEY, body: { audit_id: "not-a-uuid", reason: "ok", ...extra } });
    assert.equal(audit.status, 400, audit.text);
  }
});
