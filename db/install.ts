/**
 * Installs or upgrades the drift_guard schema from supabase/migrations/*drift_guard*.sql.
 *
 * Each file runs in its own transaction under an advisory lock, so two installs
 * at once are serialised. drift_guard.schema_version records each file's version and the
 * sha256 of its text: when every file is recorded with its text, re-running is a no-op;
 * otherwise (a newer release, a file recorded without a checksum by `supabase db push`
 * of init's migration or by hand) every file runs again, privileges last. Every file is
 * idempotent, so running them again upgrades the schema in place and keeps its data. The
 * rows of files an older release had and this one no longer ships are then deleted.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../shared/checksum.ts";
import type { Sql } from "./connect.ts";

/** 'dGinstal' as a bigint: the install lock, distinct from the repair lock. */
export const INSTALL_LOCK_KEY = "7225860050243576172";
/** 'dGrepair' as a bigint: the lock drift_guard.apply_repair / undo_repair take (drift_guard.repair_lock_key()). */
export const REPAIR_LOCK_KEY = "7225869907141945714";

export interface SchemaMigration {
  version: string;
  file: string;
  path: string;
}

const FILE_PATTERN = /^([0-9]{14})_(.*drift_guard.*)\.sql$/;

export function migrationsDir(): string {
  return fileURLToPath(new URL("../supabase/migrations/", import.meta.url));
}

/** Our schema's files, oldest first. */
export function schemaMigrations(dir = migrationsDir()): SchemaMigration[] {
  return readdirSync(dir)
    .map((file) => ({ file, m: FILE_PATTERN.exec(file) }))
    .filter((f): f is { file: string; m: RegExpExecArray } => f.m !== null)
    .map(({ file, m }) => ({ version: m[1], file, path: join(dir, file) }))
    .sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

const BOOTSTRAP = `
create schema if not exists drift_guard;
create table if not exists drift_guard.schema_version (
  version text primary key,
  installed_at timestamptz not null default now()
);
-- Only where it is missing: ALTER TABLE needs the owner, and a role that is not may still find the schema current.
do $$
begin
  if not exists (select 1 from pg_catalog.pg_attribute a
                 where a.attrelid = 'drift_guard.schema_version'::regclass and a.attname = 'checksum' and not a.attisdropped) then
    alter table drift_guard.schema_version add column checksum text null;
  end if;
end;
$$;`;

/**
 * Forgets the files an older release had and this one folded into others (what they made is
 * now made by this release's files, which just ran), so that schema_version lists the files
 * installed. A version newer than all of ours is a newer release's, and stays.
 *
 * @example retireRemovedFiles(["20251101000000", "20251204000900"])
 *   // "delete from drift_guard.schema_version where version < '20251204000900' and version <> all (array['20251101000000','20251204000900']);"
 */
export function retireRemovedFiles(versions: readonly string[]): string {
  for (const v of versions) if (!/^[0-9]{14}$/.test(v)) throw new Error(`not a schema file version: ${v}`);
  const newest = [...versions].sort().at(-1)!;
  return `delete from drift_guard.schema_version where version < '${newest}' and version <> all (array[${versions.map((v) => `'${v}'`).join(",")}]);`;
}

/** What the text of a schema file is recorded as in drift_guard.schema_version.checksum. */
export const schemaFileChecksum = (text: string) => `sha256:${sha256Hex(text)}`;

/**
 * Brings the schema to the one end state of this release. When every file is recorded with
 * the checksum of its text, nothing runs. Otherwise EVERY file runs again, oldest first, so
 * the privileges file (which sorts last and states every GRANT, REVOKE and POLICY) always
 * runs after whatever a re-run file granted: a file whose text changed cannot leave an older
 * grant or policy behind. Each file runs in its own transaction under the install lock, with
 * `drift_guard.installing` set for that transaction only (the ledger's mark for our own DDL).
 *
 * @example
 * const { applied, updated, current } = await installSchema(sql)
 * // applied: versions installed for the first time; updated: versions run again
 */
export async function installSchema(sql: Sql): Promise<{ applied: string[]; updated: string[]; current: string }> {
  const applied: string[] = [];
  const updated: string[] = [];
  const files = schemaMigrations().map((m) => {
    const text = readFileSync(m.path, "utf8");
    return { ...m, text, checksum: schemaFileChecksum(text) };
  });
  const recorded = await sql.begin(async (tx) => {
    await tx.unsafe(`select pg_catalog.pg_advisory_xact_lock(${INSTALL_LOCK_KEY}::bigint)`);
    await tx.unsafe(BOOTSTRAP);
    const rows = await tx.unsafe<{ version: string; checksum: string | null }[]>("select version, checksum from drift_guard.schema_version");
    return new Map(rows.map((r) => [r.version, r.checksum]));
  });
  if (files.some((f) => recorded.get(f.version) !== f.checksum)) {
    for (const file of files) {
      const outcome = await sql.begin(async (tx) => {
        await tx.unsafe(`select pg_catalog.pg_advisory_xact_lock(${INSTALL_LOCK_KEY}::bigint)`);
        await tx.unsafe("select pg_catalog.set_config('drift_guard.installing', 'on', true)");
        await tx.unsafe(BOOTSTRAP);
        const [row] = await tx.unsafe<{ checksum: string | null }[]>("select checksum from drift_guard.schema_version where version = $1", [file.version]);
        await tx.unsafe(file.text);
        await tx.unsafe(
          `insert into drift_guard.schema_version (version, checksum) values ($1, $2)
           on conflict (version) do update set checksum = excluded.checksum`,
          [file.version, file.checksum],
        );
        if (!row) return "applied";
        return row.checksum === file.checksum ? "rerun" : "updated";
      });
      if (outcome === "applied") applied.push(file.version);
      if (outcome === "updated") updated.push(file.version);
    }
    await sql.begin(async (tx) => {
      await tx.unsafe(`select pg_catalog.pg_advisory_xact_lock(${INSTALL_LOCK_KEY}::bigint)`);
      await tx.unsafe(retireRemovedFiles(files.map((f) => f.version)));
    });
  }
  const [row] = await sql.unsafe<{ current: string | null }[]>("select max(version) as current from drift_guard.schema_version");
  return { applied, updated, current: row?.current ?? "" };
}

/** True when the schema exists with the tables every command needs. */
export async function schemaInstalled(sql: Sql): Promise<boolean> {
  const [row] = await sql.unsafe<{ installed: boolean }[]>(
    `select pg_catalog.to_regclass('drift_guard.audit_log') is not null
        and pg_catalog.to_regclass('drift_guard.tokens') is not null
        and pg_catalog.to_regprocedure('drift_guard.history_digest()') is not null as installed`,
  );
  return row?.installed === true;
}
