/**
 * The catalog holds to docs/security-model.md: the privileges table there (between
 * `<!-- privileges:start -->` and `<!-- privileges:end -->`) lists every table and function
 * of the drift_guard schema with what service_role, authenticated, anon and PUBLIC may do,
 * and this test compares it with has_table_privilege / has_column_privilege /
 * has_function_privilege for each role, after a fresh install.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { ROOT, runCli } from "./drift_guard_schema_helpers.ts";

const ROLES = ["service_role", "authenticated", "anon", "public"] as const;
type Role = typeof ROLES[number];
const TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"];
const COLUMN_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "REFERENCES"];

interface DocRow {
  kind: "table" | "function";
  name: string;
  /** Per role: the privileges the doc grants; "SELECT (not actor)" is kept as written. */
  grants: Record<Role, string[]>;
}

/** The privileges table of docs/security-model.md. */
function docRows(): DocRow[] {
  const doc = readFileSync(join(ROOT, "docs", "security-model.md"), "utf8");
  const block = /<!-- privileges:start -->\n([\s\S]*?)\n<!-- privileges:end -->/.exec(doc);
  if (!block) throw new Error("docs/security-model.md has no privileges table");
  const cells = (cell: string) => (cell.trim() === "—" ? [] : cell.split(",").map((c) => c.trim()));
  return block[1].split("\n").slice(2).map((line) => {
    const parts = line.split("|").slice(1, -1).map((p) => p.trim());
    const m = /^(table|function) `([^`]+)`$/.exec(parts[0]);
    if (!m || parts.length !== 5) throw new Error(`docs/security-model.md: a privileges row I cannot read: ${line}`);
    const others = cells(parts[4]);
    return { kind: m[1] as DocRow["kind"], name: m[2], grants: { service_role: cells(parts[2]), authenticated: cells(parts[3]), anon: others, public: others } };
  });
}

describe("docs/security-model.md's privileges table is the catalog's", () => {
  let db: TestDatabase;
  const rows = docRows();

  beforeAll(async () => {
    db = await createTestDatabase("security_model");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
  });
  afterAll(async () => db?.drop());

  it("lists every table and function of the schema, and nothing else", async () => {
    const catalog = await db.sql<{ entry: string }[]>`
      select 'table ' || c.relname as entry from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'drift_guard' and c.relkind in ('r', 'p', 'v', 'm', 'f')
      union all
      select 'function ' || replace(p.oid::regprocedure::text, 'drift_guard.', '')
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'drift_guard'
      order by 1`;
    expect(rows.map((r) => `${r.kind} ${r.name}`).sort()).toEqual(catalog.map((c) => c.entry).sort());
  });

  it("each role has exactly the table privileges the doc lists", async () => {
    const problems: string[] = [];
    for (const row of rows.filter((r) => r.kind === "table")) {
      for (const role of ROLES) {
        const listed = row.grants[role];
        for (const privilege of TABLE_PRIVILEGES) {
          const [{ whole }] = await db.sql`select has_table_privilege(${role}, ${`drift_guard.${row.name}`}, ${privilege}) as whole`;
          // Columns carry only these four privileges.
          const any = COLUMN_PRIVILEGES.includes(privilege)
            ? (await db.sql`select has_any_column_privilege(${role}, ${`drift_guard.${row.name}`}, ${privilege}) as any`)[0].any
            : whole;
          const columnsBut = listed.map((g) => new RegExp(`^${privilege} \\(not ([a-z_]+)\\)$`).exec(g)).find(Boolean);
          if (columnsBut) {
            const [{ excluded }] = await db.sql`select has_column_privilege(${role}, ${`drift_guard.${row.name}`}, ${columnsBut[1]}, ${privilege}) as excluded`;
            if (whole || !any || excluded) problems.push(`${role} ${privilege} on ${row.name}: the doc says every column but ${columnsBut[1]}`);
          } else if (whole !== listed.includes(privilege) || any !== listed.includes(privilege)) {
            problems.push(`${role} ${privilege} on ${row.name}: catalog ${whole ? "grants" : "does not grant"}, the doc ${listed.includes(privilege) ? "does" : "does not"}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("each role may execute exactly the functions the doc lists", async () => {
    const problems: string[] = [];
    for (const row of rows.filter((r) => r.kind === "function")) {
      for (const role of ROLES) {
        const [{ ok }] = await db.sql`select has_function_privilege(${role}, ${`drift_guard.${row.name}`}::regprocedure, 'EXECUTE') as ok`;
        if (ok !== row.grants[role].includes("EXECUTE")) problems.push(`${role} EXECUTE on ${row.name}: catalog ${ok}, the doc ${!ok}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("the schema: USAGE for service_role and authenticated only", async () => {
    const usage: Record<string, boolean> = {};
    for (const role of ROLES) {
      const [{ ok }] = await db.sql`select has_schema_privilege(${role}, 'drift_guard', 'USAGE') as ok`;
      usage[role] = ok;
    }
    expect(usage).toEqual({ service_role: true, authenticated: true, anon: false, public: false });
  });

  it("authenticated with a read role reads the audit log, but not who acted nor from where", async () => {
    const err = await db.sql.begin(async (tx) => {
      await tx.unsafe("set local role authenticated");
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ role: "authenticated", sub: "u", app_metadata: { drift_guard_role: "read" } })}, true)`;
      await tx.unsafe("select id, reason from drift_guard.audit_log");
      await tx.unsafe("select actor ->> 'host' from drift_guard.audit_log");
    }).then(() => null, (e) => e.code);
    expect(err).toBe("42501");
  });
});
