/**
 * Our schema's exposure to Supabase's API roles, proven with `set role` and JWT
 * claims, and the Supabase database linter's (splinter's) security rules that
 * apply to it, as catalog queries that must find nothing.
 */
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { createHistoryTable, installDirect, runCli } from "./drift_guard_schema_helpers.ts";
import { SCOPES } from "../functions/migration-drift/auth.ts";

type Role = "anon" | "authenticated" | "service_role";

/** Runs fn in a transaction as `role` with the given JWT claims; always rolled back. */
async function asRole<T>(sql: postgres.Sql, role: Role, claims: object | null, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  let result: T;
  const rollback = new Error("rollback");
  try {
    await sql.begin(async (tx) => {
      await tx.unsafe(`set local role ${role}`);
      await tx`select set_config('request.jwt.claims', ${claims ? JSON.stringify(claims) : ""}, true)`;
      result = await fn(tx);
      throw rollback;
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  return result!;
}

async function errorCode(sql: postgres.Sql, role: Role, claims: object | null, query: string): Promise<string | null> {
  try {
    await asRole(sql, role, claims, (tx) => tx.unsafe(query));
    return null;
  } catch (err) {
    return (err as { code?: string }).code ?? "unknown";
  }
}

const reader = (role: string) => ({ role: "authenticated", sub: "8b1f3a2e-0000-4000-8000-000000000001", app_metadata: { drift_guard_role: role } });

describe("drift_guard schema security", () => {
  let db: TestDatabase;
  let functions: string[];

  beforeAll(async () => {
    db = await createTestDatabase("schema_security");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
    await createHistoryTable(db.sql);
    const [{ d }] = await db.sql`select drift_guard.history_digest() as d`;
    await db.sql`select drift_guard.apply_repair(${d}, '[{"op":"insert","version":"1","name":"a","statements":["select 1"]}]'::jsonb,
                                                 'seed the log', '{"user":"test"}'::jsonb, '{"changes":[]}'::jsonb)`;
    await db.sql`select drift_guard.create_token('ci', 'read', 'aaaaaaaaaaaa', ${"a".repeat(64)})`;
    await db.sql`select drift_guard.store_manifest('{"migrations":[]}'::jsonb, '{"token":"ci"}'::jsonb)`;
    const fns = await db.sql<{ sig: string }[]>`
      select p.oid::regprocedure::text as sig from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'drift_guard' and p.prorettype <> 'trigger'::regtype order by 1`;
    functions = fns.map((f) => f.sig);
    expect(functions.length).toBeGreaterThan(5);
  });
  afterAll(async () => db?.drop());

  describe("anon", () => {
    it("cannot read any drift_guard table", async () => {
      for (const table of ["audit_log", "tokens", "manifests", "schema_version"]) {
        expect(await errorCode(db.sql, "anon", null, `select * from drift_guard.${table}`), table).toBe("42501");
      }
    });
    it("cannot read the audit log even with a drift_guard_role claim", async () => {
      expect(await errorCode(db.sql, "anon", reader("admin"), "select * from drift_guard.audit_log")).toBe("42501");
    });
    it("cannot execute any drift_guard function", async () => {
      for (const sig of functions) {
        const [row] = await db.sql`select has_function_privilege('anon', ${sig}::regprocedure, 'EXECUTE') as ok`;
        expect(row.ok, sig).toBe(false);
      }
      expect(await errorCode(db.sql, "anon", null, "select drift_guard.history_digest()")).toBe("42501");
      expect(await errorCode(db.sql, "anon", null, "select drift_guard.apply_repair('x', '[]', 'r', '{}', '{}')")).toBe("42501");
    });
    it("has no privilege on the schema", async () => {
      const [row] = await db.sql`select has_schema_privilege('anon', 'drift_guard', 'USAGE') as u`;
      expect(row.u).toBe(false);
    });
  });

  describe("authenticated", () => {
    it("without a drift_guard_role claim sees no audit rows", async () => {
      for (const claims of [null, { role: "authenticated", sub: "x" }, { app_metadata: {} }, { app_metadata: { drift_guard_role: "owner" } }]) {
        const rows = await asRole(db.sql, "authenticated", claims, (tx) => tx`select id from drift_guard.audit_log`);
        expect(rows, JSON.stringify(claims)).toHaveLength(0);
      }
    });
    it("a drift_guard_role in user_metadata (user-editable) grants nothing", async () => {
      const rows = await asRole(db.sql, "authenticated", { user_metadata: { drift_guard_role: "admin" } }, (tx) => tx`select id from drift_guard.audit_log`);
      expect(rows).toHaveLength(0);
    });
    it("with app_metadata.drift_guard_role reads the audit log", async () => {
      for (const role of ["read", "deploy", "repair"]) {
        const rows = await asRole(db.sql, "authenticated", reader(role), (tx) => tx`select id, reason from drift_guard.audit_log`);
        expect(rows, role).toHaveLength(1);
        expect(rows[0].reason).toBe("seed the log");
      }
    });
    it("the policy accepts exactly the roles the function accepts: no 'admin'", async () => {
      for (const role of ["admin", "Read", "read ", "service_role"]) {
        const rows = await asRole(db.sql, "authenticated", reader(role), (tx) => tx`select id from drift_guard.audit_log`);
        expect(rows, role).toHaveLength(0);
      }
      const [policy] = await db.sql`select qual from pg_policies where schemaname = 'drift_guard' and policyname = 'audit_log_select_drift_guard_role'`;
      const accepted = [...String(policy.qual).matchAll(/'([a-z_]+)'::text/g)].map((m) => m[1]).filter((r) => !["app_metadata", "drift_guard_role"].includes(r));
      expect(accepted.sort()).toEqual([...SCOPES].sort());
    });
    it("cannot insert, update or delete audit rows, claim or not", async () => {
      for (const claims of [null, reader("admin")]) {
        expect(await errorCode(db.sql, "authenticated", claims,
          `insert into drift_guard.audit_log (kind, actor, reason, plan, digest_before, digest_after, rows_before, rows_after)
           values ('repair', '{}', 'x', '{}', 'a', 'b', '[]', '[]')`)).toBe("42501");
        expect(await errorCode(db.sql, "authenticated", claims, "update drift_guard.audit_log set reason = 'x'")).toBe("42501");
        expect(await errorCode(db.sql, "authenticated", claims, "delete from drift_guard.audit_log")).toBe("42501");
      }
    });
    it("cannot see tokens, manifests or schema_version", async () => {
      for (const table of ["tokens", "manifests", "schema_version"]) {
        expect(await errorCode(db.sql, "authenticated", reader("admin"), `select * from drift_guard.${table}`), table).toBe("42501");
      }
    });
    it("cannot execute any drift_guard function", async () => {
      for (const sig of functions) {
        const [row] = await db.sql`select has_function_privilege('authenticated', ${sig}::regprocedure, 'EXECUTE') as ok`;
        expect(row.ok, sig).toBe(false);
      }
      expect(await errorCode(db.sql, "authenticated", reader("admin"), "select drift_guard.history_digest()")).toBe("42501");
      expect(await errorCode(db.sql, "authenticated", reader("admin"), "select * from drift_guard.find_token('aaaaaaaaaaaa')")).toBe("42501");
    });
  });

  describe("PUBLIC", () => {
    it("has no privilege on the schema, its tables or its functions", async () => {
      const [row] = await db.sql`
        select
          (select count(*) from pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
             where n.nspname = 'drift_guard' and a.grantee = 0)::int as schema_grants,
          (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace,
             aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
             where n.nspname = 'drift_guard' and a.grantee = 0)::int as table_grants,
          (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace,
             aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
             where n.nspname = 'drift_guard' and a.grantee = 0)::int as function_grants`;
      expect(row).toEqual({ schema_grants: 0, table_grants: 0, function_grants: 0 });
    });
  });

  describe("service_role", () => {
    it("can read every table", async () => {
      for (const table of ["audit_log", "tokens", "manifests", "schema_version"]) {
        const rows = await asRole(db.sql, "service_role", null, (tx) => tx.unsafe(`select * from drift_guard.${table}`));
        expect(rows.length, table).toBeGreaterThan(0);
      }
    });
    it("the functions are SECURITY INVOKER: the history needs the caller's own rights on supabase_migrations", async () => {
      expect(await errorCode(db.sql, "service_role", null, "select drift_guard.history_digest()")).toBe("42501");
      const digest = await asRole(db.sql, "service_role", null, async (tx) => {
        await tx.unsafe("reset role; grant usage on schema supabase_migrations to service_role; grant select on supabase_migrations.schema_migrations to service_role; set local role service_role");
        return await tx`select drift_guard.history_digest() as d`;
      });
      const [own] = await db.sql`select drift_guard.history_digest() as d`;
      expect(digest[0].d).toBe(own.d);
    });
    it("cannot forge audit entries or block an undo by writing the log directly", async () => {
      const forged = `insert into drift_guard.audit_log (kind, actor, reason, plan, digest_before, digest_after, rows_before, rows_after)
        values ('repair', '{"via":"cli","user":"alice"}', 'approved', '{}', 'x', 'y', '[]', '[]')`;
      expect(await errorCode(db.sql, "service_role", null, forged)).toBe("42501");
      expect(await errorCode(db.sql, "service_role", null, "update drift_guard.audit_log set undone_by = id")).toBe("42501");
      expect(await errorCode(db.sql, "service_role", null, "delete from drift_guard.audit_log")).toBe("42501");
      const [{ n }] = await db.sql`select count(*)::int as n from drift_guard.audit_log where actor ->> 'user' = 'alice'`;
      expect(n).toBe(0);
    });
    it("can store and read manifests through the functions", async () => {
      const out = await asRole(db.sql, "service_role", null, async (tx) => {
        await tx`select drift_guard.store_manifest('{"migrations":[{"version":"1"}],"git":{"commit":"abc1234","branch":"main"}}'::jsonb, '{}'::jsonb)`;
        return await tx`select drift_guard.current_manifest() as m`;
      });
      expect(out[0].m).toMatchObject({ migration_count: 1, git_commit: "abc1234", git_branch: "main" });
    });
    it("writes a manifest only through store_manifest, which checks what it stores", async () => {
      const direct = `insert into drift_guard.manifests (uploaded_by, migration_count, body) values ('{}', 0, '{"migrations":[]}')`;
      expect(await errorCode(db.sql, "service_role", null, direct)).toBe("42501");
      expect(await errorCode(db.sql, "service_role", null, "update drift_guard.manifests set body = '{}'")).toBe("42501");
      expect(await errorCode(db.sql, "service_role", null, "delete from drift_guard.manifests")).toBe("42501");
      expect(await errorCode(db.sql, "service_role", null, `select drift_guard.store_manifest('{"migrations":{}}'::jsonb, '{}'::jsonb)`)).toBe("DGI01");
      expect(await errorCode(db.sql, "service_role", null, `select drift_guard.store_manifest('{"migrations":[]}'::jsonb, '"someone"'::jsonb)`)).toBe("DGI01");
    });
  });

  describe("audit log integrity, even for the owner", () => {
    const row = (extra = "", values = "") => `insert into drift_guard.audit_log (kind, actor, reason, plan, digest_before, digest_after, rows_before, rows_after${extra})
      values ('repair', '{"via":"cli","user":"alice"}', 'approved', '{}', 'x', 'y', '[]', '[]'${values})`;
    const ownerError = async (query: string) => {
      try {
        await db.sql.begin(async (tx) => {
          await tx.unsafe(query);
          throw Object.assign(new Error("no error"), { code: "none" });
        });
      } catch (err) {
        return (err as { code?: string }).code;
      }
    };
    it("created_at cannot be back-dated", async () => {
      expect(await ownerError(row(", created_at", ", '2020-01-01'"))).toBe("DGA01");
    });
    it("a new entry cannot arrive already undone, nor undo something that is not a repair", async () => {
      const [{ id }] = await db.sql`select id from drift_guard.audit_log where kind = 'repair' order by created_at limit 1`;
      expect(await ownerError(row(", undone_by", `, '${id}'`))).toBe("DGA01");
      expect(await ownerError(`insert into drift_guard.audit_log (kind, actor, reason, plan, digest_before, digest_after, rows_before, rows_after, undoes)
        values ('undo', '{}', 'r', '{}', 'x', 'y', '[]', '[]', '00000000-0000-4000-8000-000000000000')`)).not.toBe("none");
    });
    it("undone_by must point at a real undo of that row, so a forged link cannot block a real undo", async () => {
      const [{ id }] = await db.sql`select id from drift_guard.audit_log where kind = 'repair' and undone_by is null order by created_at limit 1`;
      expect(await ownerError(`update drift_guard.audit_log set undone_by = '${id}' where id = '${id}'`)).toBe("DGA01");
      expect(await ownerError(`update drift_guard.audit_log set undone_by = gen_random_uuid() where id = '${id}'`)).not.toBe("none");
      // The real undo still works and sets the link.
      await db.sql`select drift_guard.undo_repair(${id}, 'put it back', '{"user":"test"}'::jsonb)`;
      const [after] = await db.sql`select undone_by from drift_guard.audit_log where id = ${id}`;
      const [undo] = await db.sql`select id, kind, undoes from drift_guard.audit_log where id = ${after.undone_by}`;
      expect(undo).toMatchObject({ kind: "undo", undoes: id });
      // Redo the seed so the other tests find the history as before.
      const [{ d }] = await db.sql`select drift_guard.history_digest() as d`;
      await db.sql`select drift_guard.apply_repair(${d}, '[{"op":"insert","version":"1","name":"a","statements":["select 1"]}]'::jsonb,
                                                   'seed the log', '{"user":"test"}'::jsonb, '{"changes":[]}'::jsonb)`;
    });
  });

  // ---- Supabase database linter (splinter) rules, as catalog queries scoped to drift_guard ----

  describe("database linter", () => {
    async function findings(query: string): Promise<string[]> {
      const rows = await db.sql.unsafe<{ finding: string }[]>(query);
      return rows.map((r) => r.finding);
    }

    it("function_search_path_mutable: every function pins search_path", async () => {
      expect(await findings(`
        select p.oid::regprocedure::text as finding
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'drift_guard'
          and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')`)).toEqual([]);
      // And pins it to the catalog with pg_temp explicitly last, so that no temporary relation or
      // type shadows a catalog name (an empty path searches pg_temp FIRST).
      expect(await findings(`
        select p.oid::regprocedure::text as finding
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'drift_guard' and not ('search_path=pg_catalog, pg_temp' = any (coalesce(p.proconfig, '{}')))`)).toEqual([]);
    });

    it("anon/authenticated_security_definer_function_executable: none", async () => {
      expect(await findings(`
        select r.rolname || ' can execute ' || p.oid::regprocedure::text as finding
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        cross join (values ('anon'), ('authenticated')) r(rolname)
        where n.nspname = 'drift_guard' and p.prosecdef and has_function_privilege(r.rolname, p.oid, 'EXECUTE')`)).toEqual([]);
      // Stronger: the only SECURITY DEFINER functions are the ledger's two trigger functions, which
      // Postgres refuses to call except as triggers (they record DDL by any role without granting
      // that role write access to the ledger), and store_manifest, which only service_role may
      // execute (its upload, without INSERT on the table).
      expect(await findings(`
        select p.oid::regprocedure::text || ' returns ' || p.prorettype::regtype::text as finding
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'drift_guard' and p.prosecdef order by 1`)).toEqual([
        "drift_guard.ledger_record_ddl() returns event_trigger",
        "drift_guard.ledger_record_history_write() returns trigger",
        "drift_guard.store_manifest(jsonb,jsonb) returns jsonb",
      ]);
      expect(await findings(`
        select r.rolname || ' can execute store_manifest' as finding from pg_roles r
        where has_function_privilege(r.oid, 'drift_guard.store_manifest(jsonb,jsonb)', 'EXECUTE')
          and not r.rolsuper and r.rolname not in ('service_role', current_user) and not pg_has_role(r.oid, 'service_role', 'MEMBER')
        order by 1`)).toEqual([]);
      expect(await errorCode(db.sql, "service_role", null, "select drift_guard.ledger_record_ddl()")).toBe("42501");
      // Not even the owner can call it: Postgres runs it only as a trigger.
      const ownerCall = await db.sql.unsafe("select drift_guard.ledger_record_ddl()").then(() => null, (e) => e.code);
      expect(ownerCall).toBe("0A000");
    });

    it("rls_disabled (and policy_exists_rls_disabled): every table has RLS on", async () => {
      expect(await findings(`
        select c.oid::regclass::text as finding
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'drift_guard' and c.relkind in ('r', 'p') and not c.relrowsecurity`)).toEqual([]);
    });

    it("auth_rls_initplan: auth.*() in policies is wrapped in a select", async () => {
      expect(await findings(`
        select p.schemaname || '.' || p.tablename || ':' || p.policyname as finding
        from pg_policies p
        where p.schemaname = 'drift_guard'
          and ((p.qual ~ 'auth\\.(uid|jwt|role|email)\\(\\)' and lower(p.qual) !~ 'select\\s+auth\\.(uid|jwt|role|email)\\(\\)')
            or (p.with_check ~ 'auth\\.(uid|jwt|role|email)\\(\\)' and lower(p.with_check) !~ 'select\\s+auth\\.(uid|jwt|role|email)\\(\\)'))`)).toEqual([]);
    });

    it("rls_references_user_metadata: no policy trusts user_metadata", async () => {
      expect(await findings(`
        select p.tablename || ':' || p.policyname as finding from pg_policies p
        where p.schemaname = 'drift_guard' and (coalesce(p.qual, '') || coalesce(p.with_check, '')) ~ 'user_metadata'`)).toEqual([]);
    });

    it("rls_policy_always_true: no permissive always-true policy for anon, authenticated or PUBLIC", async () => {
      expect(await findings(`
        select pc.relname || ':' || pa.polname as finding
        from pg_policy pa join pg_class pc on pc.oid = pa.polrelid join pg_namespace n on n.oid = pc.relnamespace
        join pg_policies pb on pb.schemaname = n.nspname and pb.tablename = pc.relname and pb.policyname = pa.polname
        where n.nspname = 'drift_guard' and pa.polpermissive
          and (pa.polroles = array[0::oid] or exists (select 1 from unnest(pa.polroles) r where r::regrole::text in ('anon', 'authenticated')))
          and (pa.polcmd <> 'a' and (pb.qual is null or replace(lower(pb.qual), ' ', '') in ('true', '(true)', '1=1', '(1=1)'))
            or replace(lower(coalesce(pb.with_check, '')), ' ', '') in ('true', '(true)', '1=1', '(1=1)'))`)).toEqual([]);
    });

    it("the only policy is the audit-log read for authenticated", async () => {
      const rows = await db.sql`select tablename, policyname, cmd, roles from pg_policies where schemaname = 'drift_guard'`;
      expect(rows.map((r) => [r.tablename, r.cmd, r.roles])).toEqual([["audit_log", "SELECT", ["authenticated"]]]);
    });

    it("rls_enabled_no_policy (INFO): only the deny-all tables, on purpose", async () => {
      expect(await findings(`
        select c.relname as finding
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'drift_guard' and c.relkind = 'r' and c.relrowsecurity
          and not exists (select 1 from pg_policy p where p.polrelid = c.oid)
        order by 1`)).toEqual(["ddl_ledger", "history_writes", "ledger_health", "ledger_settings", "manifests", "schema_version", "tokens"]);
    });

    it("no_primary_key: every table has one", async () => {
      expect(await findings(`
        select c.oid::regclass::text as finding
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'drift_guard' and c.relkind = 'r'
          and not exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisprimary)`)).toEqual([]);
    });

    it("unindexed_foreign_keys: every foreign key has an index", async () => {
      expect(await findings(`
        select con.conname as finding
        from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'drift_guard' and con.contype = 'f'
          and not exists (
            select 1 from pg_index i
            where i.indrelid = con.conrelid
              and (i.indkey::int2[])[0:cardinality(con.conkey) - 1] @> con.conkey
              and (i.indkey::int2[])[0:cardinality(con.conkey) - 1] <@ con.conkey)`)).toEqual([]);
    });

    it("nothing is exposed through the Data API: no objects in public or graphql_public", async () => {
      expect(await findings(`
        select c.oid::regclass::text as finding from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('public', 'graphql_public')
        union all
        select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname in ('public', 'graphql_public')`)).toEqual([]);
    });
  });
});
