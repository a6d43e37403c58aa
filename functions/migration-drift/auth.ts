/**
 * Request -> caller + scope. Three kinds of credential:
 * - a drift-guard token (`drift-guard token create`), as `Authorization: Bearer dg_…`;
 * - the project's secret key (SUPABASE_SECRET_KEYS, or the legacy service role key),
 *   as the `apikey` header or a bearer: every scope;
 * - a signed-in user's JWT, verified against the project's keys, whose
 *   app_metadata.drift_guard_role is read, deploy or repair.
 * Scopes nest: repair includes deploy, deploy includes read.
 */
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, type JSONWebKeySet, jwtVerify, type JWTPayload } from "jose";
import type { Sql } from "../../db/connect.ts";
import { TOKEN_SCOPES, type TokenScope } from "../../db/tokens.ts";
import { DriftGuardError } from "../../shared/types.ts";
import type { Database } from "./database.ts";

export const SCOPES = TOKEN_SCOPES;
export type Scope = TokenScope;

export interface Caller {
  kind: "token" | "secret_key" | "user";
  scope: Scope;
  /** Who, for the audit log: the token label, "secret key", or the user's id and email. */
  actor: Record<string, unknown>;
}

export interface AuthConfig {
  secretKeys: ReadonlyArray<{ name: string; key: string }>;
  /** Legacy projects: user JWTs signed HS256 with the project's JWT secret. */
  jwtSecret?: string;
  /** The project's JSON Web Key Set (SUPABASE_JWKS). */
  jwks?: JSONWebKeySet;
  /** Where to fetch the key set when it is not given inline. */
  jwksUrl?: string;
  /** The `iss` user JWTs must carry: $SUPABASE_URL/auth/v1 (or DRIFT_GUARD_JWT_ISSUER). Unchecked when unset. */
  issuer?: string;
}

/** Seconds of clock difference tolerated on exp/nbf/iat between Auth and this function. */
export const JWT_CLOCK_SKEW_SECONDS = 30;

export type VerifyToken = (sql: Sql, token: string) => Promise<{ id: string; label: string; scope: string } | null>;
export type Authenticate = (req: Request, db: Database) => Promise<Caller>;

export const hasScope = (caller: Caller, needed: Scope) => SCOPES.indexOf(caller.scope) >= SCOPES.indexOf(needed);

const TOKEN_SHAPE = /^dg_[0-9a-f]{12}_[A-Za-z0-9_-]{1,512}$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const HOW_TO = "send Authorization: Bearer <token> (drift-guard token create --scope read --label NAME), or the project's secret key";

const unauthorized = (message: string) => new DriftGuardError("unauthorized", message, HOW_TO);

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Compares digests, never the secrets themselves, so time does not depend on where they differ. */
function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function createAuthenticator(config: AuthConfig, verifyToken: VerifyToken): Authenticate {
  const keyDigests = Promise.all(config.secretKeys.map(async ({ name, key }) => ({ name, digest: await sha256(key) })));
  const jwkSet = config.jwks ? createLocalJWKSet(config.jwks) : config.jwksUrl ? createRemoteJWKSet(new URL(config.jwksUrl)) : null;
  const hsKey = config.jwtSecret ? new TextEncoder().encode(config.jwtSecret) : null;

  async function secretKeyName(candidate: string): Promise<string | null> {
    const digest = await sha256(candidate);
    let match: string | null = null;
    for (const k of await keyDigests) if (sameDigest(digest, k.digest) && match === null) match = k.name;
    return match;
  }

  async function userFromJwt(jwt: string): Promise<Caller> {
    let payload: JWTPayload;
    // A user session token: it must expire, be meant for signed-in users, and come from this project's Auth.
    const claims = { audience: "authenticated", issuer: config.issuer, requiredClaims: ["exp", "sub"], clockTolerance: JWT_CLOCK_SKEW_SECONDS };
    try {
      const { alg } = decodeProtectedHeader(jwt);
      if (alg === "HS256" && hsKey) {
        ({ payload } = await jwtVerify(jwt, hsKey, { algorithms: ["HS256"], ...claims }));
      } else if (alg !== "HS256" && jwkSet) {
        ({ payload } = await jwtVerify(jwt, jwkSet, { algorithms: ["ES256", "RS256", "EdDSA"], ...claims }));
      } else {
        throw unauthorized(`cannot verify ${alg ?? "unsigned"} user JWTs: the function has no matching project key (SUPABASE_JWKS or SUPABASE_JWT_SECRET)`);
      }
    } catch (err) {
      if (err instanceof DriftGuardError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw unauthorized("the bearer JWT has expired: sign in again");
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        throw unauthorized(`the bearer JWT's "${err.claim}" claim is missing or not accepted: it must be a signed-in user's session token from this project (aud authenticated, with exp)`);
      }
      throw unauthorized("the bearer JWT is not valid for this project");
    }
    if (payload.role !== "authenticated" || typeof payload.sub !== "string") {
      throw unauthorized("the bearer JWT is not a signed-in user's (role authenticated)");
    }
    const role = (payload.app_metadata as Record<string, unknown> | undefined)?.drift_guard_role;
    if (!SCOPES.includes(role as Scope)) {
      throw new DriftGuardError(
        "forbidden",
        "this user has no drift-guard role",
        "an admin sets app_metadata.drift_guard_role to read, deploy or repair (auth.admin.updateUserById)",
      );
    }
    const email = typeof payload.email === "string" ? payload.email : null;
    return { kind: "user", scope: role as Scope, actor: { via: "function", kind: "user", user_id: payload.sub, email } };
  }

  return async (req, db) => {
    const apikey = req.headers.get("apikey")?.trim() || null;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "");
    const bearer = match?.[1] ?? null;
    if (!apikey && !bearer) throw unauthorized("no credentials");

    for (const candidate of [apikey, bearer]) {
      const name = candidate ? await secretKeyName(candidate) : null;
      if (name) return { kind: "secret_key", scope: "repair", actor: { via: "function", kind: "secret_key", label: "secret key", key: name } };
    }
    if (!bearer) throw unauthorized("the apikey is not the project's secret key, and there is no bearer token");
    if (TOKEN_SHAPE.test(bearer)) {
      const token = await db.run((sql) => verifyToken(sql, bearer));
      if (!token || !SCOPES.includes(token.scope as Scope)) throw unauthorized("unknown or revoked token");
      return { kind: "token", scope: token.scope as Scope, actor: { via: "function", kind: "token", label: token.label, token_id: token.id } };
    }
    if (JWT_SHAPE.test(bearer)) return await userFromJwt(bearer);
    throw unauthorized("unknown credentials");
  };
}

/** The caller may use a route that needs `needed`, or gets 403 saying what it has. */
export function requireScope(caller: Caller, needed: Scope): void {
  if (hasScope(caller, needed)) return;
  const who = caller.kind === "token" ? `the token "${caller.actor.label}"` : "this user";
  throw new DriftGuardError("forbidden", `this route needs the ${needed} scope; ${who} has ${caller.scope}`, `create a token with --scope ${needed}`);
}
