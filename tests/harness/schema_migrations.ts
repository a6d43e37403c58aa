/**
 * The Supabase CLI's migration history table, as `supabase db push` creates it, for the
 * tests and benches that make a history without the CLI. No imports: Node and Deno both load it.
 */

/** The table as the current CLI makes it: version, the statements it ran, and the name. */
export const SCHEMA_MIGRATIONS_DDL = `create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (version text not null primary key, statements text[], name text);`;

/** The table as old CLIs made it: the version only (drift-guard reads it, with a warning per row). */
export const LEGACY_SCHEMA_MIGRATIONS_DDL = `create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (version text not null primary key);`;
