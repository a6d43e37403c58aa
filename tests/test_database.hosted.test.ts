/**
 * The test database a file gets from harness/database.ts, in each vitest project: on the plain
 * server postgres is the superuser; in the `hosted` project it is the hosted-shaped cluster's
 * non-superuser postgres, with supautils loaded and supabase_admin as the superuser.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";

describe("createTestDatabase in this project", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("fixture");
  });
  afterAll(async () => db?.drop());

  it(inject("pg").hosted ? "is owned by postgres, not a superuser, on a cluster where supabase_admin is" : "is owned by postgres, the superuser", async () => {
    const [row] = await db.sql`
      select current_user as me, r.rolsuper as superuser, pg_catalog.pg_get_userbyid(d.datdba) as owner,
             exists (select from pg_catalog.pg_roles a where a.rolname = 'supabase_admin' and a.rolsuper) as admin_superuser
      from pg_catalog.pg_roles r, pg_catalog.pg_database d where r.rolname = current_user and d.datname = current_database()`;
    expect(row).toMatchObject({ me: "postgres", owner: "postgres", superuser: !inject("pg").hosted, admin_superuser: Boolean(inject("pg").hosted) });
  });

  it.runIf(inject("pg").hosted)("may create an event trigger (supautils' privileged role), as drift_guard's ledger needs", async () => {
    await db.sql.unsafe(`create function public.noop_ddl() returns event_trigger language plpgsql as $$ begin end $$;
      create event trigger noop_ddl on ddl_command_end execute function public.noop_ddl();
      drop event trigger noop_ddl;`);
  });
});
