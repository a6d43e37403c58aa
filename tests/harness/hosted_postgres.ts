/**
 * A PostgreSQL 15 shaped like hosted Supabase where drift-guard is most exposed
 * (../shared/platform/README.md): the bootstrap superuser is `supabase_admin`; `postgres` is NOT a
 * superuser (login createrole createdb replication bypassrls); supautils is preloaded with the
 * platform's settings (supautils.conf: `postgres` is its privileged role, so it may create event
 * triggers and privileged extensions, and the API roles are reserved); `postgres` has
 * search_path = "$user", public, extensions and may `set role` to the API roles.
 *
 * Needs supautils built into the local PostgreSQL (`.ci/run` calls the platform's
 * build-supautils.sh) and the platform folder for its settings. hostedSkipReason() says why
 * not, for `describe.skipIf`.
 *
 * Reusing it from another test file (a security test that must also hold on the hosted shape):
 * - name the file `tests/<anything>.hosted.test.ts`: the `hosted` vitest project (vitest.config.ts)
 *   runs it with `inject("pg")` pointing at this cluster, so `createTestDatabase()` (harness/database.ts)
 *   returns a database owned by, and a URL for, the non-superuser `postgres`; `inject("pg").hosted`
 *   is true there, and `inject("pg").adminUrl` connects as supabase_admin for set-up only the platform
 *   could do. The `default` project runs the same file on the plain server as well.
 * - or start one in the file: `const hosted = await startHostedPostgres()` in beforeAll,
 *   `hosted.destroy()` in afterAll, `await hosted.database("label")` per test.
 *
 * @example
 *   describe.skipIf(hostedSkipReason() !== null)(`on hosted Supabase's shape ${hostedSkipReason() ?? ""}`, () => { … });
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { findPgBin, type PgServer, startPostgres, SUPERUSER_PASSWORD } from "./postgres.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/** The bootstrap superuser of a hosted project. */
export const HOSTED_SUPERUSER = "supabase_admin";
/** The password of `postgres` on the hosted-shaped cluster. */
export const POSTGRES_PASSWORD = "dg-hosted-postgres-pw";
/** The template every hosted-shaped test database is cloned from. */
export const HOSTED_TEMPLATE_DB = "dg_hosted_template";

/**
 * The platform folder (supautils source, build script, settings): $DRIFT_GUARD_PLATFORM_DIR, or
 * shared/platform beside the repository (CI clones the repository next to it) or beside its parent
 * (a git worktree one level deeper).
 * @example readFileSync(join(platformDir()!, "supautils.conf"), "utf8")
 */
export function platformDir(): string | null {
  const candidates = [process.env.DRIFT_GUARD_PLATFORM_DIR, resolve(ROOT, "../shared/platform"), resolve(ROOT, "../../shared/platform")];
  return candidates.find((d) => d && existsSync(join(d, "supautils.conf"))) ?? null;
}

/**
 * Why the hosted-shaped cluster cannot start here, or null when it can.
 * @example describe.skipIf(hostedSkipReason() !== null)(`hosted ${hostedSkipReason() ?? ""}`, () => { … })
 */
export function hostedSkipReason(): string | null {
  const dir = platformDir();
  if (!dir) return "(skipped: no shared/platform folder beside the repository; set DRIFT_GUARD_PLATFORM_DIR)";
  let lib = "";
  try {
    lib = spawnSync(join(findPgBin(), "pg_config"), ["--pkglibdir"], { encoding: "utf8" }).stdout.trim();
  } catch { /* no PostgreSQL: the reason below */ }
  if (!lib || !existsSync(join(lib, "supautils.so"))) {
    return `(skipped: supautils is not built into PostgreSQL 15; run ${join(dir, "build-supautils.sh")} as root, as .ci/run does)`;
  }
  return null;
}

/** What a hosted project has before its first migration, run by supabase_admin as the platform does. */
function platformSql(): string {
  return `
${readFileSync(new URL("./supabase_roles.sql", import.meta.url), "utf8")}
create schema if not exists extensions;
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
grant usage on schema public, extensions to postgres, anon, authenticated, service_role;
grant all on schema public to postgres;
grant create on database ${HOSTED_TEMPLATE_DB} to postgres;
alter default privileges for role postgres in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to anon, authenticated, service_role;
`;
}

export interface HostedServer {
  server: PgServer;
  port: number;
  /** A URL as the non-superuser postgres (sslmode=disable: the Supabase CLI wants it said). */
  url(database?: string): string;
  /** A URL as supabase_admin, the superuser: for set-up only the platform could do. */
  adminUrl(database?: string): string;
  /** A fresh database cloned from the hosted template, owned by postgres; drop() removes it. */
  database(label: string): Promise<{ name: string; url: string; sql: postgres.Sql; drop(): Promise<void> }>;
  destroy(): void;
}

let counter = 0;

/**
 * Starts the hosted-shaped cluster; throws (with hostedSkipReason()) when supautils is missing.
 * `env`: the server's environment (a global setup passes one without the run's marker).
 * @example
 *   const hosted = await startHostedPostgres();
 *   try { const db = await hosted.database("x"); … } finally { hosted.destroy(); }
 */
export async function startHostedPostgres(opts: { env?: NodeJS.ProcessEnv } = {}): Promise<HostedServer> {
  const reason = hostedSkipReason();
  if (reason) throw new Error(`hosted-shaped PostgreSQL unavailable ${reason}`);
  const settings = readFileSync(join(platformDir()!, "supautils.conf"), "utf8");
  const server = await startPostgres({ superuser: HOSTED_SUPERUSER, config: settings, env: opts.env });
  const adminUrl = (database = "postgres") => server.url(database);
  const url = (database = "postgres") =>
    `postgresql://postgres:${encodeURIComponent(POSTGRES_PASSWORD)}@127.0.0.1:${server.port}/${database}?sslmode=disable`;
  try {
    const admin = postgres(adminUrl(), { onnotice: () => {}, max: 1 });
    try {
      await admin.unsafe(`create role postgres login createrole createdb replication bypassrls password '${POSTGRES_PASSWORD}'`);
      await admin.unsafe(`alter role postgres set search_path = "$user", public, extensions`);
      await admin.unsafe(`create database ${HOSTED_TEMPLATE_DB}`);
    } finally {
      await admin.end();
    }
    const tpl = postgres(adminUrl(HOSTED_TEMPLATE_DB), { onnotice: () => {}, max: 1 });
    try {
      await tpl.unsafe(platformSql());
      // As on the platform, postgres may impersonate the API roles (the dashboard's "role" switch does).
      await tpl.unsafe("grant anon, authenticated, service_role to postgres");
    } finally {
      await tpl.end();
    }
    const done = postgres(adminUrl(), { onnotice: () => {}, max: 1 });
    await done.unsafe(`alter database ${HOSTED_TEMPLATE_DB} with is_template true`);
    await done.end();
  } catch (err) {
    server.destroy();
    throw err;
  }
  return {
    server,
    port: server.port,
    url,
    adminUrl,
    async database(label) {
      const name = `dg_hosted_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${process.pid}_${++counter}`;
      const admin = postgres(url(), { onnotice: () => {}, max: 1 });
      await admin.unsafe(`create database "${name}" template ${HOSTED_TEMPLATE_DB}`);
      await admin.end();
      const sql = postgres(url(name), { onnotice: () => {}, max: 2 });
      return {
        name,
        url: url(name),
        sql,
        async drop() {
          await sql.end({ timeout: 1 });
          const a = postgres(url(), { onnotice: () => {}, max: 1 });
          await a.unsafe(`drop database if exists "${name}" with (force)`);
          await a.end();
        },
      };
    },
    destroy: () => server.destroy(),
  };
}
