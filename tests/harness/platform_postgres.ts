/**
 * A PostgreSQL 15 that looks like a Supabase project before any migration: the
 * extensions every project has (uuid-ossp, pgcrypto, pg_stat_statements in
 * `extensions`; pg_graphql in `graphql`; supabase_vault in `vault`; pgjwt), the
 * platform schemas and roles, auth/storage stand-ins, supabase_admin owning
 * platform objects, the supabase_realtime publication, Supabase's default
 * privileges and search_path.
 *
 * pg_graphql, supabase_vault, pgjwt and pg_net are not packaged for Debian's
 * PostgreSQL 15, so this server gets them as stand-in extensions (the scripts of
 * db/extension_stand_ins.ts): PostgreSQL finds its share directory relative to
 * its executable, so the binaries are copied into a temporary tree whose share
 * directory is the real one plus those control files. Nothing outside the
 * temporary directory is touched.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { standInFiles } from "../../db/extension_stand_ins.ts";
import { findPgBin, type PgServer, startPostgres } from "./postgres.ts";

/** Extensions the platform has that Debian's PostgreSQL 15 lacks, with the version Supabase ships. */
export const PLATFORM_STAND_INS: Record<string, string> = { pg_graphql: "1.5.11", supabase_vault: "0.3.1", pgjwt: "0.2.0", pg_net: "0.14.0" };

function commonPrefix(paths: string[]): string {
  let p = paths[0];
  while (!paths.every((x) => x.startsWith(p))) p = p.slice(0, p.lastIndexOf("/", p.length - 2) + 1);
  return p;
}

/** A bin directory whose share directory also has the platform stand-ins; returns it and how to remove it. */
function platformBin(extensionFiles: ReadonlyArray<{ path: string; text: string }> = []): { bin: string; remove: () => void } {
  const bin = findPgBin();
  const config = (flag: string) => spawnSync(join(bin, "pg_config"), [flag], { encoding: "utf8" }).stdout.trim();
  const share = config("--sharedir"), lib = config("--pkglibdir");
  if (!share || !lib) throw new Error("pg_config not found next to the PostgreSQL 15 binaries: the platform stand-in server needs it");
  const prefix = commonPrefix([bin + "/", share + "/", lib + "/"]);
  const root = mkdtempSync(join(tmpdir(), "drift-guard-platform-pg-"));
  chmodSync(root, 0o755);
  const at = (p: string) => join(root, p.slice(prefix.length));
  const newBin = at(bin), newShare = at(share), newLib = at(lib);
  for (const d of [newBin, newShare]) mkdirSync(d, { recursive: true });
  // Executables are copied (PostgreSQL resolves symlinks to find its share directory); everything else is linked.
  for (const f of readdirSync(bin)) {
    if (["postgres", "pg_ctl", "initdb"].includes(f)) {
      copyFileSync(join(bin, f), join(newBin, f));
      chmodSync(join(newBin, f), 0o755);
    } else symlinkSync(join(bin, f), join(newBin, f));
  }
  symlinkSync(lib, newLib);
  for (const f of readdirSync(share)) if (f !== "extension") symlinkSync(join(share, f), join(newShare, f));
  const ext = join(newShare, "extension");
  mkdirSync(ext);
  for (const f of readdirSync(join(share, "extension"))) symlinkSync(join(share, "extension", f), join(ext, f));
  for (const [name, version] of Object.entries(PLATFORM_STAND_INS)) {
    for (const f of standInFiles(name, [version])) writeFileSync(join(ext, f.path), f.text.replace("drift-guard stand-in: the shadow lacks", "test platform stand-in for"));
  }
  for (const f of extensionFiles) writeFileSync(join(ext, f.path), f.text);
  return { bin: newBin, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** What a hosted project has before its first migration (run by the superuser, as the platform does). */
export const PLATFORM_SQL = `
do $$ begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'supabase_admin') then create role supabase_admin nologin; end if;
end $$;
${readFileSync(new URL("./supabase_roles.sql", import.meta.url), "utf8")}
${readFileSync(new URL("../../supabase/shadow/supabase_stand_ins.sql", import.meta.url), "utf8")}
create schema if not exists graphql;
create schema if not exists graphql_public;
create schema if not exists vault;
create schema if not exists realtime;
alter schema extensions owner to supabase_admin;
alter schema graphql owner to supabase_admin;
alter schema vault owner to supabase_admin;
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists pg_stat_statements with schema extensions;
create extension if not exists pgjwt with schema extensions;
create extension if not exists pg_graphql with schema graphql;
create extension if not exists supabase_vault with schema vault;
grant usage on schema public to postgres, anon, authenticated, service_role;
grant usage on schema extensions, graphql, graphql_public to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
-- A platform table the shadow's stand-ins do not have.
create table auth.identities (id uuid primary key, user_id uuid not null references auth.users (id), provider text not null, identity_data jsonb not null);
create function storage.update_updated_at_column() returns trigger language plpgsql as $f$ begin new.updated_at = now(); return new; end $f$;
create trigger update_objects_updated_at before update on storage.objects for each row execute function storage.update_updated_at_column();
`;

export interface PlatformServer {
  server: PgServer;
  /** A fresh platform-shaped database (cloned from the template); drop() removes it. */
  database(label: string): Promise<{ name: string; url: string; sql: postgres.Sql; drop(): Promise<void> }>;
  /** A fresh database with nothing of the platform (createdb): for --shadow-url. */
  emptyDatabase(label: string): Promise<{ name: string; url: string; drop(): Promise<void> }>;
  destroy(): void;
}

let counter = 0;

/** `extensionFiles`: more control files and scripts for the server's extension directory (an extension Debian lacks). */
export async function startPlatformPostgres(options: { extensionFiles?: ReadonlyArray<{ path: string; text: string }> } = {}): Promise<PlatformServer> {
  const tree = platformBin(options.extensionFiles);
  let server: PgServer;
  try {
    server = await startPostgres({ bin: tree.bin });
  } catch (err) {
    tree.remove();
    throw err;
  }
  const admin = postgres(server.url(), { onnotice: () => {}, max: 1 });
  try {
    await admin.unsafe("create database platform_template");
    const tpl = postgres(server.url("platform_template"), { onnotice: () => {}, max: 1 });
    await tpl.unsafe(PLATFORM_SQL);
    await tpl.unsafe(`alter database platform_template set search_path = "$user", public, extensions`);
    await tpl.end();
  } finally {
    await admin.end();
  }
  const create = async (label: string, template: string) => {
    const name = `${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${++counter}`;
    const a = postgres(server.url(), { onnotice: () => {}, max: 1 });
    await a.unsafe(`create database "${name}" template ${template}`);
    if (template === "platform_template") await a.unsafe(`alter database "${name}" set search_path = "$user", public, extensions`);
    await a.end();
    return {
      name,
      url: server.url(name),
      async drop() {
        const b = postgres(server.url(), { onnotice: () => {}, max: 1 });
        await b.unsafe(`drop database if exists "${name}" with (force)`);
        await b.end();
      },
    };
  };
  return {
    server,
    async database(label) {
      const d = await create(label, "platform_template");
      const sql = postgres(d.url, { onnotice: () => {}, max: 2 });
      return { ...d, sql, drop: async () => (await sql.end({ timeout: 1 }), await d.drop()) };
    },
    emptyDatabase: (label) => create(label, "template1"),
    destroy() {
      server.destroy();
      tree.remove();
    },
  };
}
