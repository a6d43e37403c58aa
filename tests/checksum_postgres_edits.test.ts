/**
 * Each file pushed by the real `supabase db push`, then edited where the CLI's splitter and
 * Postgres's lexer part ways: `drift-guard check` reports every one `edited`, never in sync.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { createTestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const CASES: Record<string, [reviewed: string, edited: string]> = {
  "20240101000000_dollar.sql": ["select $$$x -- $$ as label;\n", "select $$$x -- $$ as label || (select string_agg(rolname, ',') from pg_roles);\n"],
  "20240102000000_tag.sql": ["select $a$a$ -- x $a$ as label;\n", "select $a$a$ -- y $a$ as label;\n"],
  "20240103000000_number.sql": ["select 1.e5;\n", "select 1. e5;\n"],
  "20240104000000_unicode.sql": ["select U&'8';\n", "select U &'8';\n"],
  "20240105000000_backslash.sql": [
    "set standard_conforming_strings = off;\nselect 'a\\' -- ';\n",
    "set standard_conforming_strings = off;\nselect 'a\\' -- ' || current_user;\n",
  ],
};

it("check says edited for every edit Postgres would run differently", async () => {
  const db = await createTestDatabase("lexer_edits");
  const project = makeProject(Object.fromEntries(Object.entries(CASES).map(([file, [reviewed]]) => [file, reviewed])));
  try {
    supabasePush(db.url, project);
    const before = await runCli(["check", "--db-url", db.url, "--format", "json"], { cwd: project });
    expect(before.status, before.stderr).toBe(0);
    for (const [file, [, edited]] of Object.entries(CASES)) writeFileSync(join(project, "supabase/migrations", file), edited);
    const after = await runCli(["check", "--db-url", db.url, "--format", "json"], { cwd: project });
    expect(after.status, after.stderr).toBe(1);
    const states = Object.fromEntries(JSON.parse(after.stdout).migrations.map((m: { version: string; state: string }) => [m.version, m.state]));
    expect(states).toEqual(Object.fromEntries(Object.keys(CASES).map((f) => [f.slice(0, 14), "edited"])));
  } finally {
    await db.drop();
    rmSync(project, { recursive: true, force: true });
  }
});
