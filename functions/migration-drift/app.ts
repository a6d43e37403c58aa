/** The migration-drift function: routes -> handlers, errors -> JSON, in one place. */
import { DriftGuardError } from "../../shared/types.ts";
import { type Authenticate, requireScope, type Scope } from "./auth.ts";
import { DEFAULT_BODY_TIMEOUT_MS, readJsonBody } from "./body.ts";
import type { DefinitionJudge, RepositoryReplayer, ReplayVerifier } from "../../db/report.ts";
import type { Database } from "./database.ts";
import { audit, drift, type Handler, health, history, ledger, ledgerAck, putManifest, repair, schema, status, undo } from "./routes.ts";
import type { Alerter } from "./alerts.ts";

export interface AppDeps {
  db: Database;
  authenticate: Authenticate;
  maxBodyBytes: number;
  /** Milliseconds a client has to send its whole body (DRIFT_GUARD_BODY_TIMEOUT_MS); then 408. */
  bodyTimeoutMs?: number;
  /** Requests worked on at once (GET /health aside; waiting for a body is not work); beyond it, 503 overloaded with Retry-After. */
  maxConcurrent?: number;
  /** Webhook alerts for new untracked changes (DRIFT_GUARD_WEBHOOK_URL); none when unset. */
  alert?: Alerter;
  /** Compares definitions for ?evidence=full and repair plans; `drift-guard serve` passes it, the hosted function cannot. */
  judgeDefinitions?: DefinitionJudge;
  /** Proves whole-history repairs by replay for ?evidence=full; `drift-guard serve` passes it, the hosted function cannot. */
  verifyReplay?: ReplayVerifier;
  /** Replays the repository once for both evidence and the verifier; passed with verifyReplay. */
  replayRepository?: RepositoryReplayer;
}

/**
 * Enough to keep the database pool busy; few enough that queued requests cannot
 * grow the isolate past its memory (hosted: ~256 MB).
 */
export const DEFAULT_MAX_CONCURRENT = 32;
/** Seconds a client should wait after a 503 that retrying can fix. */
const RETRY_AFTER_SECONDS = "1";

const ROUTES: ReadonlyArray<[method: string, path: string, scope: Scope | null, handler: Handler]> = [
  ["GET", "/health", null, health],
  ["GET", "/status", "read", status],
  ["POST", "/drift", "read", drift],
  ["PUT", "/manifest", "deploy", putManifest],
  ["POST", "/repair", "repair", repair],
  ["POST", "/repair/undo", "repair", undo],
  ["GET", "/history/:version", "read", history],
  ["GET", "/audit", "read", audit],
  ["GET", "/schema", "read", schema],
  ["GET", "/ledger", "read", ledger],
  ["POST", "/ledger/ack", "repair", ledgerAck],
];
const COMPILED = ROUTES.map(([method, path, scope, handler]) => ({
  method, scope, handler,
  names: [...path.matchAll(/:(\w+)/g)].map((m) => m[1]),
  pattern: new RegExp(`^${path.replace(/:\w+/g, "([^/]+)")}$`),
}));

/** Hosted, the gateway passes /migration-drift/<route>; `npm run serve` sees /functions/v1/migration-drift/<route>. */
const PREFIX = /^(?:\/functions\/v1)?\/migration-drift(?=\/|$)/;

function match(method: string, pathname: string) {
  const path = pathname.replace(PREFIX, "").replace(/\/+$/, "") || "/";
  const candidates = PREFIX.test(pathname) ? COMPILED.filter((r) => r.pattern.test(path)) : [];
  const route = candidates.find((r) => r.method === method);
  if (route) {
    const values = route.pattern.exec(path)!.slice(1);
    return { ...route, params: Object.fromEntries(route.names.map((n, i) => [n, values[i]])) };
  }
  throw new DriftGuardError(
    "not_found",
    candidates.length ? `${method} is not allowed on ${path}` : `no route ${method} ${path}`,
    `routes: ${ROUTES.map(([m, p]) => `${m} ${p}`).join(", ")}`,
  );
}

const json = (status: number, text: string | Uint8Array, extra: Record<string, string> = {}) =>
  new Response(text as BodyInit, { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...extra } });

const CHUNK_BYTES = 64 * 1024;

/**
 * A cached reply's bytes, served as a stream of views into the one shared buffer. Handed
 * over whole, the runtime copies the body once per response, and a slow client holds its
 * copy (0.5 MB gzipped at 10,000 migrations) for as long as it takes to read it: memory
 * that grows with callers. Streamed, each response holds at most a chunk.
 */
function cachedJson(status: number, bytes: Uint8Array, extra: Record<string, string> = {}): Response {
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, at + CHUNK_BYTES));
      at += CHUNK_BYTES;
    },
  });
  return new Response(body, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "content-length": String(bytes.length), ...extra },
  });
}

const RETRYABLE = new Set(["overloaded", "unreachable", "statement_timeout"]);

export function createApp(deps: AppDeps): (req: Request) => Promise<Response> {
  const limit = deps.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
  let inFlight = 0;
  /** A slot while the request is worked on; the returned function gives it back (once). */
  const takeSlot = () => {
    if (inFlight >= limit) throw new DriftGuardError("overloaded", `the function is serving ${limit} requests already`, `retry after ${RETRY_AFTER_SECONDS} s`);
    inFlight++;
    let held = true;
    return () => {
      if (held) inFlight--;
      held = false;
    };
  };
  return async (req) => {
    let release = () => {};
    try {
      const url = new URL(req.url);
      const route = match(req.method, url.pathname);
      const working = route.handler !== health;
      if (working) release = takeSlot();
      // Credentials come from the headers: nobody unauthenticated gets to send a body.
      const caller = route.scope ? await deps.authenticate(req, deps.db) : null;
      if (caller && route.scope) requireScope(caller, route.scope);
      let body: Promise<unknown> | undefined;
      if (working && (req.method === "POST" || req.method === "PUT")) {
        // Waiting for a client's bytes is not work: no slot is held meanwhile, and the read has a deadline.
        release();
        const value = await readJsonBody(req, deps.maxBodyBytes, deps.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS);
        body = Promise.resolve(value);
        release = takeSlot();
      }
      const readBody = () => body ?? readJsonBody(req, deps.maxBodyBytes, deps.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS);
      const reply = await route.handler({ url, params: route.params, caller, db: deps.db, body: readBody, alert: deps.alert, judgeDefinitions: deps.judgeDefinitions, verifyReplay: deps.verifyReplay, replayRepository: deps.replayRepository });
      if (reply.gzipped && /\bgzip\b/.test(req.headers.get("accept-encoding") ?? "")) {
        return cachedJson(reply.status, reply.gzipped, { "content-encoding": "gzip", vary: "accept-encoding" });
      }
      return reply.encoded ? cachedJson(reply.status, reply.encoded, reply.gzipped ? { vary: "accept-encoding" } : {}) : json(reply.status, JSON.stringify(reply.body));
    } catch (err) {
      const error = err instanceof DriftGuardError ? err : new DriftGuardError("internal", "unexpected error");
      if (!(err instanceof DriftGuardError)) console.error("migration-drift: unexpected error", err);
      if (!req.bodyUsed) req.body?.cancel().catch(() => {});
      return json(error.httpStatus, JSON.stringify(error.toJSON()), RETRYABLE.has(error.code) ? { "retry-after": RETRY_AFTER_SECONDS } : {});
    } finally {
      release();
    }
  };
}
