/**
 * Each kind of credential, configured the way the hosted runtime configures it
 * (environment variables), against a real database for the token look-ups.
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { verifyToken } from "../../db/tokens.ts";
import { createApp } from "./app.ts";
import { createAuthenticator } from "./auth.ts";
import { lazyDatabase } from "./database.ts";
import { authConfigFromEnv } from "./environment.ts";
import { createToken, startTestDatabase } from "./test_support.ts";
import { assertSafeError, call } from "./test_support_http.ts";

const settings = { sanitizeResources: false, sanitizeOps: false };
const JWT_SECRET = "legacy-jwt-secret-with-at-least-32-characters!";
const NEW_SECRET = "sb_secret_new_AbCdEf0123456789";
const OTHER_SECRET = "sb_secret_other_ZyXw9876543210";
const SERVICE_ROLE = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.legacy-service-role-signature";

async function userJwt(key: CryptoKey | Uint8Array, alg: string, claims: Record<string, unknown>, opts: { kid?: string; expiresIn?: string | number | null } = {}) {
  const jwt = new SignJWT({ role: "authenticated", aud: "authenticated", ...claims })
    .setProtectedHeader({ alg, typ: "JWT", ...(opts.kid ? { kid: opts.kid } : {}) })
    .setSubject(String(claims.sub ?? crypto.randomUUID()))
    .setIssuedAt();
  if (opts.expiresIn !== null) jwt.setExpirationTime(opts.expiresIn ?? "1h");
  return await jwt.sign(key);
}

Deno.test("credentials: tokens, secret keys and user JWTs", settings, async (t) => {
  const pg = await startTestDatabase();
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "key-1", alg: "ES256", use: "sig" };
  const stranger = await generateKeyPair("ES256");
  const env: Record<string, string> = {
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: NEW_SECRET, ci: OTHER_SECRET }),
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE,
    SUPABASE_JWKS: JSON.stringify({ keys: [jwk] }),
    SUPABASE_JWT_SECRET: JWT_SECRET,
  };
  const db = lazyDatabase(pg.url);
  const app = createApp({ db, authenticate: createAuthenticator(authConfigFromEnv((n) => env[n]), verifyToken), maxBodyBytes: 1 << 20 });
  const hs = new TextEncoder().encode(JWT_SECRET);
  const secrets = [NEW_SECRET, OTHER_SECRET, SERVICE_ROLE, JWT_SECRET, pg.url];
  // /audit needs read, PUT /manifest deploy (an empty body is a 400 after auth), /repair/undo repair (400 after auth).
  const probes = [
    { scope: "read", method: "GET", route: "/audit", allowed: 200 },
    { scope: "deploy", method: "PUT", route: "/manifest", allowed: 400 },
    { scope: "repair", method: "POST", route: "/repair/undo", allowed: 400 },
  ] as const;
  const level = { read: 0, deploy: 1, repair: 2 } as const;
  async function expectScope(auth: { token?: string; apikey?: string }, scope: "read" | "deploy" | "repair") {
    for (const p of probes) {
      const res = await call(app, p.method, p.route, auth);
      if (level[p.scope] <= level[scope]) assert.equal(res.status, p.allowed, `${scope} on ${p.route}: ${res.text}`);
      else assertSafeError(res, 403, "forbidden", secrets);
    }
  }

  try {
    await t.step("drift-guard tokens: each scope gets exactly its routes", async () => {
      for (const scope of ["read", "deploy", "repair"] as const) {
        const token = await createToken(pg.url, scope, `token-${scope}`);
        await expectScope({ token }, scope);
        secrets.push(token);
      }
    });

    await t.step("secret keys (SUPABASE_SECRET_KEYS, legacy service role) as apikey or bearer: every scope", async () => {
      for (const key of [NEW_SECRET, OTHER_SECRET, SERVICE_ROLE]) {
        await expectScope({ apikey: key }, "repair");
        await expectScope({ token: key }, "repair");
      }
      assertSafeError(await call(app, "GET", "/audit", { apikey: NEW_SECRET + "x" }), 401, "unauthorized", secrets);
      assertSafeError(await call(app, "GET", "/audit", { token: NEW_SECRET.slice(0, -1) }), 401, "unauthorized", secrets);
      // The publishable key in apikey does not hide a valid bearer.
      const token = await createToken(pg.url, "read", "with-publishable");
      assert.equal((await call(app, "GET", "/audit", { apikey: "sb_publishable_x", token })).status, 200);
    });

    await t.step("user JWTs signed with the project's key (JWKS, ES256): scope from app_metadata.drift_guard_role", async () => {
      for (const role of ["read", "deploy", "repair"] as const) {
        const jwt = await userJwt(privateKey, "ES256", { email: `${role}@example.com`, app_metadata: { drift_guard_role: role } }, { kid: "key-1" });
        await expectScope({ token: jwt }, role);
      }
      const jwt = await userJwt(privateKey, "ES256", { sub: "7d0c6b0e-0000-4000-8000-000000000001", email: "ops@example.com", app_metadata: { drift_guard_role: "deploy" } }, { kid: "key-1" });
      const stored = await call(app, "PUT", "/manifest", {
        token: jwt,
        body: { format: "drift-guard.manifest/1", generated_at: new Date().toISOString(), git: null, migrations: [], problems: [] },
      });
      assert.equal(stored.status, 201, stored.text);
      assert.deepEqual(stored.body.manifest.uploaded_by, { via: "function", kind: "user", user_id: "7d0c6b0e-0000-4000-8000-000000000001", email: "ops@example.com" });
    });

    await t.step("user JWTs, legacy HS256 with SUPABASE_JWT_SECRET", async () => {
      const jwt = await userJwt(hs, "HS256", { app_metadata: { drift_guard_role: "read" } });
      await expectScope({ token: jwt }, "read");
    });

    await t.step("user JWTs that are not good enough", async () => {
      const noRole = await userJwt(privateKey, "ES256", { app_metadata: {} }, { kid: "key-1" });
      assertSafeError(await call(app, "GET", "/audit", { token: noRole }), 403, "forbidden", secrets);
      const oddRole = await userJwt(privateKey, "ES256", { app_metadata: { drift_guard_role: "admin" } }, { kid: "key-1" });
      assertSafeError(await call(app, "GET", "/audit", { token: oddRole }), 403, "forbidden", secrets);
      // The role in user_metadata is the user's own to edit: it grants nothing.
      const selfGranted = await userJwt(privateKey, "ES256", { user_metadata: { drift_guard_role: "repair" } }, { kid: "key-1" });
      assertSafeError(await call(app, "GET", "/audit", { token: selfGranted }), 403, "forbidden", secrets);
      const expired = await userJwt(privateKey, "ES256", { app_metadata: { drift_guard_role: "read" } }, { kid: "key-1", expiresIn: Math.floor(Date.now() / 1000) - 60 });
      const res = await call(app, "GET", "/audit", { token: expired });
      assertSafeError(res, 401, "unauthorized", [...secrets, expired]);
      assert.match(res.body.error.message, /expired/);
      const forged = await userJwt(stranger.privateKey, "ES256", { app_metadata: { drift_guard_role: "repair" } }, { kid: "key-1" });
      assertSafeError(await call(app, "GET", "/audit", { token: forged }), 401, "unauthorized", [...secrets, forged]);
      const wrongSecret = await userJwt(new TextEncoder().encode("x".repeat(40)), "HS256", { app_metadata: { drift_guard_role: "repair" } });
      assertSafeError(await call(app, "GET", "/audit", { token: wrongSecret }), 401, "unauthorized", secrets);
      const anon = await new SignJWT({ role: "anon" }).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("1h").sign(hs);
      assertSafeError(await call(app, "GET", "/audit", { token: anon }), 401, "unauthorized", secrets);
      // No exp is not "valid forever"; aud must be authenticated.
      const noExp = await userJwt(privateKey, "ES256", { app_metadata: { drift_guard_role: "repair" } }, { kid: "key-1", expiresIn: null });
      const noExpRes = await call(app, "GET", "/audit", { token: noExp });
      assertSafeError(noExpRes, 401, "unauthorized", [...secrets, noExp]);
      assert.match(noExpRes.body.error.message, /"exp"/);
      const noExpHs = await userJwt(hs, "HS256", { app_metadata: { drift_guard_role: "repair" } }, { expiresIn: null });
      assertSafeError(await call(app, "GET", "/audit", { token: noExpHs }), 401, "unauthorized", secrets);
      for (const aud of ["anon", "service_role", ["other"]]) {
        const wrongAud = await userJwt(privateKey, "ES256", { aud, app_metadata: { drift_guard_role: "read" } }, { kid: "key-1" });
        assertSafeError(await call(app, "GET", "/audit", { token: wrongAud }), 401, "unauthorized", secrets);
      }
      const noAud = await userJwt(privateKey, "ES256", { aud: undefined, app_metadata: { drift_guard_role: "read" } }, { kid: "key-1" });
      assertSafeError(await call(app, "GET", "/audit", { token: noAud }), 401, "unauthorized", secrets);
      // A few seconds of clock skew are tolerated.
      const justExpired = await userJwt(privateKey, "ES256", { app_metadata: { drift_guard_role: "read" } }, { kid: "key-1", expiresIn: Math.floor(Date.now() / 1000) - 5 });
      assert.equal((await call(app, "GET", "/audit", { token: justExpired })).status, 200);
      const unsigned = `${btoa(JSON.stringify({ alg: "none" })).replace(/=+$/, "")}.${btoa(JSON.stringify({ role: "authenticated", app_metadata: { drift_guard_role: "repair" } })).replace(/=+$/, "")}.x`;
      assertSafeError(await call(app, "GET", "/audit", { token: unsigned }), 401, "unauthorized", secrets);
    });

    await t.step("JWKS fetched from SUPABASE_URL when not given inline", async () => {
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) =>
        new URL(req.url).pathname === "/auth/v1/.well-known/jwks.json" ? Response.json({ keys: [jwk] }) : new Response("no", { status: 404 }));
      try {
        const remoteEnv: Record<string, string> = { SUPABASE_URL: `http://127.0.0.1:${server.addr.port}` };
        const remoteApp = createApp({ db, authenticate: createAuthenticator(authConfigFromEnv((n) => remoteEnv[n]), verifyToken), maxBodyBytes: 1024 });
        const iss = `${remoteEnv.SUPABASE_URL}/auth/v1`;
        const jwt = await userJwt(privateKey, "ES256", { iss, app_metadata: { drift_guard_role: "read" } }, { kid: "key-1" });
        assert.equal((await call(remoteApp, "GET", "/audit", { token: jwt })).status, 200);
        // With SUPABASE_URL set, iss must be this project's Auth.
        for (const wrong of [undefined, "https://other-project.supabase.co/auth/v1", `${remoteEnv.SUPABASE_URL}/auth/v1/`]) {
          const other = await userJwt(privateKey, "ES256", { iss: wrong, app_metadata: { drift_guard_role: "read" } }, { kid: "key-1" });
          assertSafeError(await call(remoteApp, "GET", "/audit", { token: other }), 401, "unauthorized");
        }
        const overridden = createApp({
          db,
          authenticate: createAuthenticator(authConfigFromEnv((n) => ({ ...remoteEnv, DRIFT_GUARD_JWT_ISSUER: "http://127.0.0.1:54321/auth/v1" } as Record<string, string>)[n]), verifyToken),
          maxBodyBytes: 1024,
        });
        const local = await userJwt(privateKey, "ES256", { iss: "http://127.0.0.1:54321/auth/v1", app_metadata: { drift_guard_role: "read" } }, { kid: "key-1" });
        assert.equal((await call(overridden, "GET", "/audit", { token: local })).status, 200);
        // Without SUPABASE_JWT_SECRET, HS256 tokens cannot be verified: 401, not a crash.
        assertSafeError(await call(remoteApp, "GET", "/audit", { token: await userJwt(hs, "HS256", { app_metadata: { drift_guard_role: "read" } }) }), 401, "unauthorized");
      } finally {
        await server.shutdown();
      }
    });
  } finally {
    await db.close();
    await pg.close();
  }
});

Deno.test("environment: key sets in every documented shape; bad JSON is ignored, not fatal", () => {
  const jwk = { kty: "EC", crv: "P-256", x: "x", y: "y" };
  const config = authConfigFromEnv((n) => ({
    SUPABASE_SECRET_KEYS: '{"default":"sb_secret_a","empty":"","n":3}',
    SUPABASE_SECRET_KEY: "sb_secret_b",
    SUPABASE_SERVICE_ROLE_KEY: "legacy",
    SUPABASE_JWKS: JSON.stringify([jwk]),
  } as Record<string, string>)[n]);
  assert.deepEqual(config.secretKeys.map((k) => k.name), ["default", "secret", "service_role"]);
  assert.deepEqual(config.jwks, { keys: [jwk] });
  const broken = authConfigFromEnv((n) => ({ SUPABASE_SECRET_KEYS: "{oops", SUPABASE_JWKS: "nope" } as Record<string, string>)[n]);
  assert.deepEqual(broken.secretKeys, []);
  assert.equal(broken.jwks, undefined);
});
