/**
 * One table for codes: shared/types.ts maps every error code and outcome to an exit
 * code and an HTTP status; the docs and every command's --help agree with it, and
 * only drift exits 1.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../cli/main.ts";
import { exitCodesHelp } from "../cli/command.ts";
import { ERROR_CODES, EXIT, EXIT_MEANINGS, OUTCOMES } from "../shared/types.ts";
import { runCli } from "./harness/cli_in_process.ts";

const DOC = readFileSync(new URL("../docs/failures-and-load.md", import.meta.url), "utf8");

/** Rows of the docs' tables: each `code` named in the first cell, with its exit and HTTP cells. */
function documented(): Map<string, { exit: number; http: number[] }> {
  const rows = new Map<string, { exit: number; http: number[] }>();
  for (const line of DOC.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 5 || !/^`/.test(cells[1])) continue;
    const http = [...cells[3].matchAll(/\d{3}/g)].map((m) => Number(m[0]));
    for (const [, code] of cells[1].matchAll(/`([a-z_]+)`/g)) rows.set(code, { exit: Number(cells[2]), http });
  }
  return rows;
}

describe("the code table", () => {
  it("only drift exits 1: no error code and no other outcome does", () => {
    for (const [code, { exit }] of Object.entries(ERROR_CODES)) expect(exit, code).not.toBe(EXIT.drift);
    for (const [outcome, { exit }] of Object.entries(OUTCOMES)) if (outcome !== "drift") expect(exit, outcome).not.toBe(EXIT.drift);
    expect(OUTCOMES.drift.exit).toBe(EXIT.drift);
  });

  it("drift answers 409 and in sync 200, from the table", () => {
    expect(OUTCOMES.drift.http).toBe(409);
    expect(OUTCOMES.in_sync.http).toBe(200);
  });

  it("docs/failures-and-load.md lists every error code and outcome with the table's exit code and HTTP status", () => {
    const rows = documented();
    for (const [code, { exit, http }] of [...Object.entries(ERROR_CODES), ...Object.entries(OUTCOMES)]) {
      expect(rows.get(code), code).toBeDefined();
      expect(rows.get(code)!.exit, code).toBe(exit);
      expect(rows.get(code)!.http, code).toContain(http);
    }
  });
});

describe("--help", () => {
  it("each command's exit codes are the table's meanings (or the command's own wording of 0 and 1)", async () => {
    for (const [name, load] of Object.entries(COMMANDS)) {
      const { definition } = await load();
      expect(definition.name).toBe(name);
      const r = await runCli([...name.split(" "), "--help"]);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toContain(exitCodesHelp(definition));
      for (const code of definition.exitCodes) {
        if (code > EXIT.drift) expect(r.stdout, `${name} ${code}`).toContain(`  ${code}  ${EXIT_MEANINGS[code]}\n`);
      }
    }
  });

  it("the program's help sums up every exit code from the table", async () => {
    const r = await runCli(["--help"]);
    for (const [code, meaning] of Object.entries(EXIT_MEANINGS)) expect(r.stdout).toContain(`${code} ${meaning}`);
  });
});

describe("commander's own errors", () => {
  it("an unknown option, a missing value and an unknown command exit 2, never 1", async () => {
    const unknown = await runCli(["check", "--no-such-flag"]);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toMatch(/^drift-guard: unknown option '--no-such-flag'/);
    expect((await runCli(["repair", "--reason"])).code).toBe(EXIT.usage);
    expect((await runCli(["no-such-command"])).code).toBe(EXIT.usage);
  });
});

describe("serve", () => {
  it("a Deno that fails on its own is function_exited (exit 3), not 1 (drift)", async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "drift-guard-serve-"));
    try {
      mkdirSync(join(dir, "supabase", "functions", "migration-drift"), { recursive: true });
      writeFileSync(join(dir, "supabase", "functions", "migration-drift", "serve.ts"), "");
      // /bin/false stands in for a Deno that exits 1 at once.
      const r = await runCli(["serve", "--db-url", "postgresql://postgres@127.0.0.1:1/postgres"], { cwd: dir, env: { DENO_BIN: "/bin/false" } });
      expect(r.code).toBe(ERROR_CODES.function_exited.exit);
      expect(r.code).not.toBe(EXIT.drift);
      expect(r.stderr).toMatch(/Deno process exited with code 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
