/** The function's wiring from its environment: the same for the hosted entrypoint and `npm run serve`. */
import type { JSONWebKeySet } from "jose";
import { verifyToken } from "../../db/tokens.ts";
import { type AppDeps, createApp, DEFAULT_MAX_CONCURRENT } from "./app.ts";
import { type AuthConfig, createAuthenticator } from "./auth.ts";
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES } from "./body.ts";
import { lazyDatabase } from "./database.ts";
import { keepServingAfterOrphanedDatabaseErrors } from "./orphaned_errors.ts";
import { alertConfigFromEnv, createAlerter } from "./alerts.ts";

export type Env = (name: string) => string | undefined;

function parseJson(env: Env, name: string): unknown {
  const raw = env(name)?.trim();
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    console.error(`migration-drift: ${name} is not valid JSON; ignoring it`);
    return undefined;
  }
}

/** SUPABASE_SECRET_KEYS (name -> key), SUPABASE_SECRET_KEY, and the legacy SUPABASE_SERVICE_ROLE_KEY. */
export function authConfigFromEnv(env: Env): AuthConfig {
  const secretKeys: Array<{ name: string; key: string }> = [];
  const named = parseJson(env, "SUPABASE_SECRET_KEYS");
  if (named && typeof named === "object" && !Array.isArray(named)) {
    for (const [name, key] of Object.entries(named)) if (typeof key === "string" && key) secretKeys.push({ name, key });
  }
  const single = env("SUPABASE_SECRET_KEY");
  if (single) secretKeys.push({ name: "secret", key: single });
  const legacy = env("SUPABASE_SERVICE_ROLE_KEY");
  if (legacy) secretKeys.push({ name: "service_role", key: legacy });

  const jwksValue = parseJson(env, "SUPABASE_JWKS");
  const jwks = Array.isArray(jwksValue) ? { keys: jwksValue } : (jwksValue as JSONWebKeySet | undefined);
  const projectUrl = env("SUPABASE_URL");
  return {
    secretKeys,
    jwtSecret: env("SUPABASE_JWT_SECRET") || undefined,
    jwks: Array.isArray(jwks?.keys) && jwks.keys.length ? jwks : undefined,
    jwksUrl: projectUrl ? `${projectUrl.replace(/\/+$/, "")}/auth/v1/.well-known/jwks.json` : undefined,
    // Supabase Auth signs iss = <project URL>/auth/v1. Where the function sees another URL than the
    // one Auth signs with (local `supabase start`: http://kong:8000), DRIFT_GUARD_JWT_ISSUER says which.
    issuer: env("DRIFT_GUARD_JWT_ISSUER") || (projectUrl ? `${projectUrl.replace(/\/+$/, "")}/auth/v1` : undefined),
  };
}

/**
 * The app as configured by the environment. `extra` adds what only a local
 * runtime can offer (serve.ts: comparing definitions in the embedded shadow).
 *
 * @example Deno.serve(appFromEnv())
 */
export function appFromEnv(
  env: Env = (name) => Deno.env.get(name),
  extra: Pick<AppDeps, "judgeDefinitions" | "verifyReplay" | "replayRepository"> = {},
): (req: Request) => Promise<Response> {
  keepServingAfterOrphanedDatabaseErrors();
  const limit = Number(env("DRIFT_GUARD_MAX_BODY_BYTES"));
  const concurrent = Number(env("DRIFT_GUARD_MAX_CONCURRENT"));
  const bodyTimeout = Number(env("DRIFT_GUARD_BODY_TIMEOUT_MS"));
  const alerts = alertConfigFromEnv(env);
  return createApp({
    maxConcurrent: Number.isInteger(concurrent) && concurrent > 0 ? concurrent : DEFAULT_MAX_CONCURRENT,
    alert: alerts ? createAlerter(alerts) : undefined,
    ...extra,
    db: lazyDatabase(env("SUPABASE_DB_URL"), { max: 3, connectTimeoutSeconds: 5, statementTimeoutMs: 15_000 }),
    authenticate: createAuthenticator(authConfigFromEnv(env), verifyToken),
    maxBodyBytes: Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_MAX_BODY_BYTES,
    bodyTimeoutMs: Number.isInteger(bodyTimeout) && bodyTimeout > 0 ? bodyTimeout : DEFAULT_BODY_TIMEOUT_MS,
  });
}
