/** Looks up, in one query, whether the objects local-only migrations create already exist. */
import { extractCreatedObjects, judgeEvidence } from "../shared/evidence.ts";
import type { Evidence, LocalMigration } from "../shared/types.ts";
import type { Sql } from "./connect.ts";

const PRESENCE_SQL = `
select o.i, case o.kind
  when 'schema' then exists (select from pg_catalog.pg_namespace where nspname = o.name)
  when 'table' then exists (select from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                            where n.nspname = o.schema and c.relname = o.name and c.relkind in ('r','p','f'))
  when 'view' then exists (select from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                           where n.nspname = o.schema and c.relname = o.name and c.relkind in ('v','m'))
  when 'index' then exists (select from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                            where n.nspname = o.schema and c.relname = o.name and c.relkind in ('i','I'))
  when 'function' then exists (select from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
                               where n.nspname = o.schema and p.proname = o.name)
  when 'type' then exists (select from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
                           where n.nspname = o.schema and t.typname = o.name)
  when 'column' then exists (select from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid
                             join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                             where n.nspname = o.schema and c.relname = o.tbl and a.attname = o.name and not a.attisdropped)
  when 'policy' then exists (select from pg_catalog.pg_policy p join pg_catalog.pg_class c on c.oid = p.polrelid
                             join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                             where n.nspname = o.schema and c.relname = o.tbl and p.polname = o.name)
  when 'trigger' then exists (select from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid
                              join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                              where n.nspname = o.schema and c.relname = o.tbl and t.tgname = o.name)
  else false end as present
from jsonb_to_recordset($1::text::jsonb) as o(i int, kind text, schema text, name text, tbl text)`;

export async function collectEvidence(sql: Sql, migrations: readonly LocalMigration[]): Promise<Map<string, Evidence>> {
  const perMigration = migrations.map((m) => ({ version: m.version, objects: extractCreatedObjects(m.statements) }));
  const flat = perMigration.flatMap((p) => p.objects);
  const present = new Array<boolean>(flat.length).fill(false);
  if (flat.length) {
    const payload = flat.map((o, i) => ({ i, kind: o.kind, schema: o.schema, name: o.name, tbl: o.table ?? null }));
    const rows = await sql.unsafe<{ i: number; present: boolean }[]>(PRESENCE_SQL, [JSON.stringify(payload)]);
    for (const r of rows) present[r.i] = r.present;
  }
  const result = new Map<string, Evidence>();
  let offset = 0;
  for (const p of perMigration) {
    result.set(p.version, judgeEvidence(p.objects, present.slice(offset, offset + p.objects.length)));
    offset += p.objects.length;
  }
  return result;
}
