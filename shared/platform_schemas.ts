/**
 * The schemas the Supabase platform (or an extension it ships) owns, in one
 * table. Every rule about "platform schemas" reads it:
 *
 *  - schema-diff leaves them out of the comparison by default (PLATFORM_SCHEMA_NAMES);
 *  - the shadow copies the live database's skeleton of those marked `skeleton`
 *    before replay (db/shadow/bootstrap.ts), as a hosted project has them before
 *    its first migration;
 *  - the DDL ledger skips DDL in those marked `ledger` (the default of
 *    drift_guard.ledger_settings.skip_schemas; tests/platform_schemas.test.ts
 *    holds the SQL to this table).
 */
export interface PlatformSchema {
  name: string;
  /** What owns it. */
  owner: string;
  /** The shadow copies what the live database has in it (tables, columns, keys, types, function signatures). */
  skeleton: boolean;
  /** The DDL ledger skips DDL in it by default. */
  ledger: boolean;
  /** The extension whose script creates it: the shadow leaves it to that extension. */
  extension?: string;
}

export const PLATFORM_SCHEMAS: readonly PlatformSchema[] = [
  { name: "auth", owner: "Supabase Auth (GoTrue)", skeleton: true, ledger: true },
  { name: "storage", owner: "Supabase Storage", skeleton: true, ledger: true },
  { name: "realtime", owner: "Supabase Realtime", skeleton: true, ledger: true },
  { name: "_realtime", owner: "Supabase Realtime (self-hosted)", skeleton: true, ledger: true },
  { name: "graphql", owner: "pg_graphql", skeleton: true, ledger: true },
  { name: "graphql_public", owner: "pg_graphql", skeleton: true, ledger: true },
  { name: "vault", owner: "supabase_vault", skeleton: true, ledger: true },
  { name: "pgsodium", owner: "pgsodium", skeleton: true, ledger: true, extension: "pgsodium" },
  { name: "pgsodium_masks", owner: "pgsodium", skeleton: true, ledger: true, extension: "pgsodium" },
  // Users enable extensions here from the dashboard: the ledger records that DDL.
  { name: "extensions", owner: "the platform's home for extensions", skeleton: true, ledger: false },
  { name: "supabase_functions", owner: "Database Webhooks", skeleton: true, ledger: true },
  // Built by the CLI (history) and by drift-guard's own migrations: never copied into the shadow.
  { name: "supabase_migrations", owner: "the Supabase CLI's migration history", skeleton: false, ledger: true },
  { name: "drift_guard", owner: "drift-guard", skeleton: false, ledger: false },
  { name: "net", owner: "pg_net", skeleton: true, ledger: true, extension: "pg_net" },
  { name: "cron", owner: "pg_cron", skeleton: true, ledger: true, extension: "pg_cron" },
  { name: "pgbouncer", owner: "PgBouncer / Supavisor auth", skeleton: true, ledger: true },
  { name: "_analytics", owner: "Supabase Analytics (self-hosted)", skeleton: true, ledger: true },
  { name: "pgtle", owner: "pg_tle", skeleton: true, ledger: true, extension: "pg_tle" },
  { name: "pgmq", owner: "pgmq (Supabase Queues)", skeleton: true, ledger: false, extension: "pgmq" },
];

/** Every platform schema's name: schema-diff's default exclusions. */
export const PLATFORM_SCHEMA_NAMES: readonly string[] = PLATFORM_SCHEMAS.map((s) => s.name);

/** The schemas whose live skeleton the shadow copies before replay. */
export const SKELETON_SCHEMAS: readonly string[] = PLATFORM_SCHEMAS.filter((s) => s.skeleton).map((s) => s.name);

/** Skeleton schemas no extension creates: made empty in the shadow when the live database has them, before anything else. */
export const SHADOW_SCHEMAS: readonly string[] = PLATFORM_SCHEMAS.filter((s) => s.skeleton && !s.extension).map((s) => s.name);

/**
 * Whether a schema is the platform's.
 * @example isPlatformSchema("auth") // true
 * @example isPlatformSchema("public") // false
 */
export function isPlatformSchema(name: string): boolean {
  return PLATFORM_SCHEMA_NAMES.includes(name);
}
