/**
 * GET /schema in-process, against a real PostgreSQL with drift_guard installed and
 * tokens minted by the real CLI: scopes, the body's shape, and the digest's stability.
 */
import assert from "node:assert/strict";
import { postgresCatalog, readCatalog, readPlatformSettings } from "../../db/catalog.ts";
import { verifyToken } from "../../db/tokens.ts";
import { schemaDigest, schemaFilter } from "../../shared/schema_diff.ts";
import { createApp } from "./app.ts";
import { createAuthenticator } from "./auth.ts";
import { lazyDatabase } from "./database.ts";
import { createToken, startTestDatabase } from "./test_support.ts";
import { assertSafeError, call } from "./test_support_http.ts";

const SECRET_KEY = "sb_secret_schema_route_0123456789abcdef";
const settings = { sanitizeResources: false, sanitizeOps: false };

Deno.test("GET /schema: the live schema's fingerprint", settings, async (t) => {
  const pg = await startTestDatabase();
  const db = lazyDatabase(pg.url, { max: 3, connectTimeoutSeconds: 5, statementTimeoutMs: 15_000 });
  const app = createApp({ db, authenticate: createAuthenticator({ secretKeys: [{ name: "default", key: SECRET_KEY }] }, verifyToken), maxBodyBytes: 256 * 1024 });
  try {
    const read = await createToken(pg.url, "read", "ci-read");
    const secrets = [read, SECRET_KEY, pg.url, "dg-test-secret-pw"];
    await pg.sql.unsafe(`
      create table public.profiles (id uuid primary key, username text not null);
      alter table public.profiles enable row level security;
      create policy "read own" on public.profiles for select to authenticated using (true);
      create schema private;
      create table private.notes (id int primary key);`);

    await t.step("scope: no credentials 401, unknown token 401, read token and secret key 200", async () => {
      assertSafeError(await call(app, "GET", "/schema"), 401, "unauthorized", secrets);
      assertSafeError(await call(app, "GET", "/schema", { token: "dg_nope_0123456789" }), 401, "unauthorized", secrets);
      assert.equal((await call(app, "GET", "/schema", { token: read })).status, 200);
      assert.equal((await call(app, "GET", "/schema", { apikey: SECRET_KEY })).status, 200);
      assertSafeError(await call(app, "POST", "/schema", { token: read, body: {} }), 404, "not_found", secrets);
    });

    await t.step("body: digest, the same snapshot and settings db/catalog.ts reads, the filter", async () => {
      const res = await call(app, "GET", "/schema", { token: read });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ["objects", "schema_digest", "schemas", "server_version_num", "settings"]);
      assert.match(res.body.schema_digest, /^sha256:[0-9a-f]{64}$/);
      assert.equal(res.body.schema_digest, schemaDigest(res.body));
      const filter = schemaFilter(undefined, undefined);
      assert.deepEqual(res.body.schemas, filter);
      const conn = postgresCatalog(pg.sql);
      const direct = await readCatalog(conn, filter);
      assert.deepEqual(res.body.objects, direct.objects);
      assert.equal(res.body.server_version_num, direct.server_version_num);
      assert.deepEqual(res.body.settings, await readPlatformSettings(conn));
      const names = res.body.objects.map((o: { kind: string; name: string }) => `${o.kind}:${o.name}`);
      for (const n of ["table:public.profiles", "column:public.profiles.username", 'policy:"read own" on public.profiles', "table:private.notes"]) {
        assert(names.includes(n), `${n} missing from ${names.join(", ")}`);
      }
      // Default exclusions: drift_guard's own schema and the platform's are not in it.
      assert(!names.some((n: string) => /^(table|function):(drift_guard|auth|storage|supabase_migrations)\./.test(n)), names.join(", "));
    });

    await t.step("include_schema / exclude_schema, as --include-schema / --exclude-schema", async () => {
      const only = await call(app, "GET", "/schema?include_schema=private", { token: read });
      assert.equal(only.status, 200, only.text);
      assert.deepEqual(only.body.schemas, schemaFilter(["private"], undefined));
      assert(only.body.objects.every((o: { name: string }) => !o.name.startsWith("public.")), only.text);
      assert(only.body.objects.some((o: { name: string }) => o.name === "private.notes"));
      const without = await call(app, "GET", "/schema?exclude_schema=private&exclude_schema=x,y", { token: read });
      assert.deepEqual(without.body.schemas, schemaFilter(undefined, ["private", "x", "y"]));
      assert(!without.body.objects.some((o: { name: string }) => o.name.startsWith("private.")));
      assert.notEqual(without.body.schema_digest, only.body.schema_digest);
      assertSafeError(await call(app, "GET", `/schema?include_schema=${"x".repeat(64)}`, { token: read }), 400, "bad_input", secrets);
    });

    await t.step("platform schemas are not readable through the API, drift_guard least of all", async () => {
      for (const hidden of ["drift_guard", "auth", "vault", "storage", "supabase_migrations", "pg_catalog", "information_schema", "private,drift_guard"]) {
        const res = await call(app, "GET", `/schema?include_schema=${hidden}`, { token: read });
        assertSafeError(res, 400, "bad_input", secrets);
        assert.match(res.body.error.message, /platform schema/);
      }
      // Excluding everything else does not bring them back either.
      const all = await call(app, "GET", "/schema?exclude_schema=public,private", { token: read });
      assert.equal(all.status, 200, all.text);
      assert(!all.body.objects.some((o: { name: string }) => /^(drift_guard|auth|vault|supabase_migrations)\./.test(o.name)), all.text);
    });

    await t.step("digest: stable for the same database, changed by a dashboard change", async () => {
      const first = (await call(app, "GET", "/schema", { token: read })).body.schema_digest;
      assert.equal((await call(app, "GET", "/schema", { token: read })).body.schema_digest, first);
      // Object order does not matter.
      const body = (await call(app, "GET", "/schema", { token: read })).body;
      assert.equal(schemaDigest({ objects: [...body.objects].reverse() }), first);

      await pg.sql.unsafe("alter table public.profiles add column x int");
      const added = (await call(app, "GET", "/schema", { token: read })).body.schema_digest;
      assert.notEqual(added, first);
      await pg.sql.unsafe(`alter policy "read own" on public.profiles using (false)`);
      const policy = (await call(app, "GET", "/schema", { token: read })).body.schema_digest;
      assert.notEqual(policy, added);
      // Undoing both gives the first digest back.
      await pg.sql.unsafe(`alter table public.profiles drop column x; alter policy "read own" on public.profiles using (true)`);
      assert.equal((await call(app, "GET", "/schema", { token: read })).body.schema_digest, first);
    });
  } finally {
    await db.close();
    await pg.close();
  }
});
