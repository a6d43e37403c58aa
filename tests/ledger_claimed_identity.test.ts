/**
 * Claimed identities read as claimed, and never make an entry tracked: any session may set
 * application_name (and request.jwt.claims), so a session that calls itself
 * "supabase db push" and runs DDL without writing a history row is untracked, and every
 * output says the name is the client's claim.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLedger } from "../db/ledger.ts";
import { describeWho, groupUntracked } from "../shared/ledger.ts";
import { renderLedger } from "../shared/report_formats/ledger.ts";
import { alertPayload } from "../shared/ledger_alert.ts";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { createHistoryTable, runCli } from "./drift_guard_schema_helpers.ts";

describe("a session that claims to be supabase db push", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase("ledger_claimed");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
    await createHistoryTable(db.sql);
  });
  afterAll(async () => db?.drop());

  const entriesOf = async (identity: string) => (await readLedger(db.sql, { object: identity })).filter((e) => e.object_identity === identity);

  it("runs DDL without a history row: untracked, whatever application_name and JWT it claims", async () => {
    const impostor = postgres(db.url, { onnotice: () => {}, max: 1, connection: { application_name: "supabase db push" } });
    try {
      await impostor.begin(async (tx) => {
        await tx.unsafe(`select pg_catalog.set_config('request.jwt.claims', '{"sub":"ci","role":"service_role"}', true)`);
        await tx.unsafe("create table public.looks_like_a_migration (id int)");
      });
    } finally {
      await impostor.end({ timeout: 1 });
    }
    const [e] = await entriesOf("public.looks_like_a_migration");
    expect(e).toMatchObject({ status: "untracked", tracked_by: [], application_name: "supabase db push", jwt_role: "service_role", claimed: ["application_name", "jwt"] });
  });

  it("the same DDL with a history row in its transaction is tracked, with or without a claimed name", async () => {
    await db.sql.begin(async (tx) => {
      await tx.unsafe("set local application_name = ''");
      await tx.unsafe("create table public.really_migrated (id int)");
      await tx.unsafe("insert into supabase_migrations.schema_migrations (version, name) values ('20990301000000', 'really')");
    });
    const [e] = await entriesOf("public.really_migrated");
    expect(e).toMatchObject({ status: "tracked", tracked_by: ["20990301000000"], claimed: [] });
  });

  it("every output says the application name and the JWT are claimed", async () => {
    const entries = await entriesOf("public.looks_like_a_migration");
    const who = describeWho(entries[0]);
    expect(who).toMatch(/^postgres via supabase db push \(claimed by the client\) from .* \(claimed, unverified: JWT role service_role, sub ci\)$/);
    const text = renderLedger(entries, "text");
    expect(text).toContain("postgres via supabase db push (claimed by the client)");
    expect(text).not.toMatch(/via supabase db push(?! \(claimed by the client\))/);
    const markdown = renderLedger(entries, "markdown");
    expect(markdown).toContain("via supabase db push (claimed by the client)");
    expect(markdown).toContain("(claimed, unverified: JWT role service_role, sub ci)");
    const json = JSON.parse(renderLedger(entries, "json"));
    expect(json.entries[0]).toMatchObject({ application_name: "supabase db push", claimed: ["application_name", "jwt"] });
    const groups = groupUntracked(entries);
    expect(groups[0].who).toEqual([who]);
    expect(groups[0].changes[0].claimed).toEqual(["application_name", "jwt"]);
    const alert = alertPayload(groups, "my-project", "https://abc.supabase.co/functions/v1/migration-drift/ledger?status=untracked");
    expect(alert.text).toContain("via supabase db push (claimed by the client)");
    expect(alert.text).not.toMatch(/via supabase db push(?! \(claimed by the client\))/);
  });
});
