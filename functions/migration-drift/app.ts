/** The migration-drift function: routes -> handlers, errors -> JSON, in one place. */
import { DriftGuardError, type ErrorCode } from "../../shared/types.ts";
import { type Authenticate, requireScope, type Scope } from "./auth.ts";
import { readJsonBody } from "./body.ts";
import type { Database } from "./database.ts";
import { audit, drift, type Handler, health, history, ledger, ledgerAck, putManifest, repair, schema, status, undo } from "./routes.ts";
import type { Alerter } from "./alerts.ts";

export interface AppDeps {
  db: Database;
  authenticate: Authenticate;
  maxBodyBytes: number;
  /** Webhook alerts for new untracked changes (DRIFT_GUARD_WEBHOOK_URL); none when unset. */
  alert?: Alerter;
}

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

const STATUS: Record<ErrorCode, number> = {
  usage: 400, bad_input: 400, unknown_version: 400, malformed_manifest: 400, bad_directory: 400,
  unauthorized: 401, forbidden: 403, not_found: 404, no_manifest: 404,
  digest_mismatch: 409, lock_held: 409, payload_too_large: 413,
  unreachable: 503, not_installed: 503, insufficient_privilege: 503, internal: 500,
};

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

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });

export function createApp(deps: AppDeps): (req: Request) => Promise<Response> {
  return async (req) => {
    try {
      const url = new URL(req.url);
      const route = match(req.method, url.pathname);
      const caller = route.scope ? await deps.authenticate(req, deps.db) : null;
      if (caller && route.scope) requireScope(caller, route.scope);
      const reply = await route.handler({ url, params: route.params, caller, db: deps.db, body: () => readJsonBody(req, deps.maxBodyBytes), alert: deps.alert });
      return json(reply.status, reply.body);
    } catch (err) {
      const error = err instanceof DriftGuardError ? err : new DriftGuardError("internal", "unexpected error");
      if (!(err instanceof DriftGuardError)) console.error("migration-drift: unexpected error", err);
      if (!req.bodyUsed) req.body?.cancel().catch(() => {});
      return json(STATUS[error.code] ?? 500, error.toJSON());
    }
  };
}
