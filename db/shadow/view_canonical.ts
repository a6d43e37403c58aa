import type { Shadow } from "./shadow.ts";


/**
 * Re-deparses view queries on the shadow's server. Postgres 16 stopped
 * qualifying column names in single-table view definitions, so a Postgres 15
 * live database and the newer embedded shadow spell the same view differently.
 * Creating the live text as a temporary view on the shadow and reading it back
 * spells both alike. Returns name -> canonical text, for the views it could
 * create (a view over objects the shadow lacks simply stays different).
 */
export async function canonicalViewDefinitions(shadow: Shadow, views: ReadonlyArray<{ name: string; definition: string }>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!views.length) return out;
  await shadow.exec("begin");
  try {
    await shadow.query("select pg_catalog.set_config('search_path', '', true)");
    for (const v of views) {
      await shadow.exec("savepoint drift_guard_canon");
      try {
        await shadow.run(`create temporary view drift_guard_canon as ${v.definition.trim().replace(/;+$/, "")}`);
        const [row] = await shadow.query("select pg_catalog.pg_get_viewdef('pg_temp.drift_guard_canon'::pg_catalog.regclass) as d");
        out.set(v.name, String(row.d));
      } catch {
        // not creatable here: leave it as it is
      }
      await shadow.exec("rollback to savepoint drift_guard_canon");
    }
  } finally {
    await shadow.exec("rollback").catch(() => {});
  }
  return out;
}

