/** Reading supabase/migrations from disk: symlinks may not leave the project. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readMigrationsDir } from "../cli/local_migrations.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject } from "./harness/supabase_cli.ts";

describe("symlinks in supabase/migrations", () => {
  const project = makeProject({ "20240101000000_base.sql": "create table public.base (id int);\n" });
  const outside = mkdtempSync(join(tmpdir(), "drift-guard-outside-"));
  const migrations = join(project, "supabase/migrations");
  writeFileSync(join(outside, "stolen.sql"), "select 'a secret that lives outside the project';\n");
  mkdirSync(join(project, "shared"));
  writeFileSync(join(project, "shared/common.sql"), "create table public.common (id int);\n");
  symlinkSync("/proc/self/environ", join(migrations, "20240102000000_env.sql"));
  symlinkSync(join(outside, "stolen.sql"), join(migrations, "20240103000000_stolen.sql"));
  symlinkSync("../../../../../../../../../../etc/hostname", join(migrations, "20240104000000_relative.sql"));
  symlinkSync("../../shared/common.sql", join(migrations, "20240105000000_common.sql"));
  afterAll(() => {
    rmSync(project, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it("a link that leaves the project is refused with a problem entry; one inside it is read", async () => {
    const parsed = await readMigrationsDir(migrations);
    expect(parsed.migrations.map((m) => m.version)).toEqual(["20240101000000", "20240105000000"]);
    const refused = parsed.problems.filter((p) => /symlink that leaves the project/.test(p.message));
    expect(refused.map((p) => p.file.split("/").at(-1)).sort()).toEqual(["20240102000000_env.sql", "20240103000000_stolen.sql", "20240104000000_relative.sql"]);
    expect(refused.every((p) => p.level === "error")).toBe(true);
  });

  it("the environment (a token in it) never reaches the manifest", async () => {
    const token = "dg_0123456789ab_secret-from-the-environment";
    const r = await runCli(["manifest", "build", "--migrations", migrations], { env: { DRIFT_GUARD_SECRET_FOR_TEST: token } });
    expect(r.stdout).not.toContain(token);
    expect(r.stdout).not.toContain("a secret that lives outside the project");
    expect(r.stderr).toMatch(/20240102000000_env\.sql: refused: a symlink that leaves the project/);
  });
});
