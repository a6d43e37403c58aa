/**
 * What the ledger shows to whom: statements never below repair scope nor in alerts (a
 * statement may carry a password or a key), and claimed identities read as claimed.
 */
import { describe, expect, it } from "vitest";
import { describeWho, HIDDEN_FROM_SCOPE, hideEntryStatements, hideUntrackedStatements } from "../shared/ledger.ts";
import { alertPayload } from "../shared/ledger_alert.ts";
import type { UntrackedChange } from "../shared/types.ts";

const SECRET = "sk_live_0123456789abcdef";
const statement = `select length('${SECRET}'); create user mapping for public server s options (user 'u', password 'hunter2-${SECRET}')`;

const groups: UntrackedChange[] = [{
  object: "table public.accounts",
  object_type: "table",
  object_identity: "public.accounts",
  schema: "public",
  first_at: "2026-12-01T10:00:00.000Z",
  last_at: "2026-12-01T10:00:00.000Z",
  who: ["postgres via psql (claimed by the client) from 127.0.0.1"],
  changes: [{
    id: "7", at: "2026-12-01T10:00:00.000Z", command_tag: "CREATE TABLE", session_user: "postgres", current_user: "postgres",
    application_name: "psql", client_addr: "127.0.0.1", jwt_sub: null, jwt_role: null, claimed: ["application_name"], statement, statement_hash: "sha256:ab", alerted: false,
  }],
}];

describe("ledger disclosure", () => {
  it("the webhook alert carries the object, who, when and a link, never the statement", () => {
    const payload = alertPayload(groups, "my-project", "https://abc.supabase.co/functions/v1/migration-drift/ledger?status=untracked");
    const body = JSON.stringify(payload);
    expect(body).not.toContain(SECRET);
    expect(body).not.toContain("hunter2");
    expect(payload.text).toContain("table public.accounts");
    expect(payload.text).toContain("postgres via psql (claimed by the client) from 127.0.0.1");
    expect(payload.text).toContain("2026-12-01 10:00");
    expect(payload.text).toContain("https://abc.supabase.co/functions/v1/migration-drift/ledger?status=untracked");
    expect(payload.untracked_changes[0].changes[0]).toMatchObject({ statement: HIDDEN_FROM_SCOPE, statement_hash: "sha256:ab", id: "7" });
  });

  it("statements are hidden from the report's untracked changes and from ledger entries, the hash kept", () => {
    expect(JSON.stringify(hideUntrackedStatements(groups))).not.toContain(SECRET);
    const [entry] = hideEntryStatements([{ id: "1", statement, statement_hash: "sha256:cd" }, { id: "2", statement: null, statement_hash: null }]);
    expect(entry).toEqual({ id: "1", statement: HIDDEN_FROM_SCOPE, statement_hash: "sha256:cd" });
    expect(hideEntryStatements([{ id: "2", statement: null }])[0].statement).toBeNull();
  });

  it("JWT claims read as claimed: any session may set request.jwt.claims", () => {
    const who = describeWho({ session_user: "postgres", current_user: "postgres", application_name: "supabase db push", client_addr: null, jwt_sub: "u1", jwt_role: "service_role" });
    expect(who).toBe("postgres via supabase db push (claimed by the client) from a local socket (claimed, unverified: JWT role service_role, sub u1)");
  });
});
