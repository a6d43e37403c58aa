/** A connection pooler's refusals (PgBouncer, Supavisor) become a 503 that names the pooler and the cause. */
import { describe, expect, it } from "vitest";
import { databaseError } from "../db/database_error.ts";
import { DriftGuardError } from "../shared/types.ts";

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, name: "PostgresError" });

describe("databaseError for a connection pooler", () => {
  it.each([
    ["08P01", "unsupported startup parameter: statement_timeout", /pooler .*startup parameter "statement_timeout"/, /options|5432/],
    ["08P01", "unsupported startup parameter: options", /pooler .*startup parameter "options"/, /options|5432/],
    ["08P01", "no more connections allowed (max_client_conn)", /pooler .*no free connections/, /retry/],
    ["XX000", "(EMAXCONNSESSION) max clients reached in session mode - max clients are limited to pool_size: 15", /pooler .*no free connections/, /retry/],
    ["XX000", "Tenant or user not found", /pooler .*rejected the login/, /postgres\.<project-ref>/],
    ["08P01", "server conn crashed?", /pooler .*closed or refused/, /retry/],
    ["08P01", "bad packet header", /protocol violation, SQLSTATE 08P01/, /6543/],
    ["26000", "prepared statement \"p1\" does not exist", /prepared statement was lost .*transaction pooler/, /5432/],
  ])("%s %s -> unreachable (503), never internal", (code, message, says, hint) => {
    const original = pgError(code, message);
    const err = databaseError(original, "postgresql://postgres:secret-pw@db.example.com:6543/postgres");
    expect(err).toBeInstanceOf(DriftGuardError);
    expect(err.code).toBe("unreachable");
    expect(err.httpStatus).toBe(503);
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(says);
    expect(err.hint).toMatch(hint);
    expect(err.cause).toBe(original);
    expect(err.message).toContain("db.example.com:6543/postgres");
    expect(err.message + err.hint).not.toContain("secret-pw");
    expect(err.message).not.toContain(message);
  });

  it("quotes a parameter name only when it is a plain identifier", () => {
    const err = databaseError(pgError("08P01", "unsupported startup parameter: \u001b[31m<b>x</b>"));
    expect(err.message).not.toMatch(/[\u001b<>]/);
    expect(err.message).toMatch(/pooler/);
  });

  it("keeps an unrelated internal error internal", () => {
    expect(databaseError(pgError("XX000", "cache lookup failed for relation 1234")).code).toBe("internal");
  });
});
