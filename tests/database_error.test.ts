/** The one SQLSTATE -> code translation and the one code -> exit/HTTP table. */
import { describe, expect, it } from "vitest";
import { databaseError } from "../db/database_error.ts";
import { codeForHttpStatus, DriftGuardError, ERROR_CODES, type ErrorCode, EXIT } from "../shared/types.ts";

const pgError = (code: string, message = "boom") => Object.assign(new Error(message), { code, name: "PostgresError" });

describe("databaseError", () => {
  it.each([
    ["57014", "canceling statement due to statement timeout", "statement_timeout", /statement timeout/],
    ["3F000", "schema \"drift_guard\" does not exist", "not_installed", /not installed/],
    ["42P01", "relation does not exist", "not_installed", /not installed/],
    ["42883", "function does not exist", "not_installed", /not installed/],
    ["22P02", "invalid input syntax for type uuid", "bad_input", /rejected a value/],
    ["22021", "invalid byte sequence", "bad_input", /rejected a value/],
    ["22P05", "unsupported Unicode escape sequence", "bad_input", /rejected a value/],
    ["DGM01", "expected digest x", "digest_mismatch", /history changed/],
    ["DGL01", "held by", "lock_held", /holds the lock/],
    ["DGN01", "no audit entry has id", "not_found", /no audit entry/],
    ["28P01", "password authentication failed for user", "unreachable", /cannot authenticate/],
    ["ECONNREFUSED", "connect ECONNREFUSED", "unreachable", /cannot reach/],
    ["XX000", "internal", "internal", /SQLSTATE XX000/],
  ])("%s -> %s, keeping the original as cause and never its text", (code, message, expected, says) => {
    const original = pgError(code, message);
    const err = databaseError(original, "postgresql://postgres:secret-pw@db.example.com:5432/postgres");
    expect(err).toBeInstanceOf(DriftGuardError);
    expect(err.code).toBe(expected);
    expect(err.message).toMatch(says);
    expect(err.cause).toBe(original);
    expect(err.message + (err.hint ?? "")).not.toContain("secret-pw");
    if (!code.startsWith("DG")) expect(err.message).not.toContain(message);
  });

  it("names the host for the CLI and no host for the function", () => {
    expect(databaseError(pgError("57014", "canceling statement due to statement timeout"), "postgresql://u:p@db.example.com:6543/postgres").message).toContain("db.example.com:6543/postgres");
    expect(databaseError(pgError("57014", "canceling statement due to statement timeout")).message).not.toMatch(/example|:\d+\//);
  });
});

describe("ERROR_CODES", () => {
  it("gives every code an exit code of 2-4 (never 1, the code for drift) and a contract HTTP status", () => {
    for (const [code, { exit, http }] of Object.entries(ERROR_CODES)) {
      expect([EXIT.usage, EXIT.unreachable, EXIT.conflict], code).toContain(exit);
      expect([400, 401, 403, 404, 408, 409, 413, 500, 503], code).toContain(http);
      expect(new DriftGuardError(code as ErrorCode, "x").exitCode).toBe(exit);
      expect(new DriftGuardError(code as ErrorCode, "x").httpStatus).toBe(http);
    }
  });

  it("maps a bare HTTP status back to the first code listed with it", () => {
    expect(codeForHttpStatus(401)).toBe("unauthorized");
    expect(codeForHttpStatus(503)).toBe("unreachable");
    expect(codeForHttpStatus(418)).toBe("unreachable");
  });
});
