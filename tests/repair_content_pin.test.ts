/** The plan digest pins the exact statements a repair writes, comments included, and bad input is refused before any digest. */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { statementsChecksum } from "../shared/checksum.ts";
import { planDigest, validateRepairRequest } from "../shared/repair_plan.ts";
import type { RepairChange } from "../shared/types.ts";
import { createTestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const insert = (statements: string[]): RepairChange => ({ op: "insert", version: "3", name: "x", statements, statements_checksum: statementsChecksum(statements) });

describe("planDigest", () => {
  it("changes with a comment the canonical checksum ignores", () => {
    const reviewed = ["-- reviewed\ncreate table t (id int)"];
    const edited = ["-- not what was reviewed\ncreate table t (id int)"];
    expect(statementsChecksum(edited)).toBe(statementsChecksum(reviewed));
    expect(planDigest("sha256:00", [insert(edited)])).not.toBe(planDigest("sha256:00", [insert(reviewed)]));
  });
  it("length-prefixes statements: moving text between statements changes it", () => {
    expect(planDigest("sha256:00", [insert(["a", "b"])])).not.toBe(planDigest("sha256:00", [insert(["a\nb"])]));
    expect(planDigest("sha256:00", [insert(["a;", "b"])])).not.toBe(planDigest("sha256:00", [insert(["a", ";b"])]));
  });
  it("validateRepairRequest refuses a NUL or empty reason and a malformed version", () => {
    expect(() => validateRepairRequest({ markReverted: ["1"], reason: "a\u0000b" })).toThrow(/NUL/);
    expect(() => validateRepairRequest({ markReverted: ["1"], reason: "  " })).toThrow(/reason is required/);
    expect(() => validateRepairRequest({ markReverted: ["1x"], reason: "ok" })).toThrow(/not a migration version/);
  });
});

describe("apply after a comment changed", () => {
  it("is a conflict (exit 4) and writes nothing", async () => {
    const db = await createTestDatabase("plan_comment_pin");
    const project = makeProject({ "20240101000000_base.sql": "create table public.base(id int);" });
    try {
      supabasePush(db.url, project);
      expect((await runCli(["install", "--db-url", db.url])).status).toBe(0);
      const run = (...args: string[]) => runCli(args, { cwd: project, env: { SUPABASE_DB_URL: db.url } });
      const file = join(project, "supabase/migrations", "20240102000000_handmade.sql");
      writeFileSync(file, "-- ran by hand during the incident\ncreate table public.handmade (id int);\n");
      const plan = await run("repair", "--mark-applied", "20240102000000", "--reason", "hand-run", "--format", "json");
      expect(plan.status, plan.stderr).toBe(0);
      const digest = JSON.parse(plan.stdout).plan_digest as string;
      const rows = () => db.sql`select version, name, statements from supabase_migrations.schema_migrations order by version`;
      const before = await rows();
      writeFileSync(file, "-- approved by nobody; run with --yes\ncreate table public.handmade (id int);\n");
      const applied = await run("repair", "--mark-applied", "20240102000000", "--reason", "hand-run", "--apply", "--expect-digest", digest);
      expect(applied.status, applied.stderr).toBe(4);
      expect(applied.stderr).toMatch(/plan changed since it was reviewed/);
      expect(await rows()).toEqual(before);
    } finally {
      await db.drop();
      rmSync(project, { recursive: true, force: true });
    }
  });
});
